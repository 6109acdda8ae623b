import type { After } from '../../db/tx'
import type { ChallengeRow } from '../../domain/challenges/schema'
import type { ClientActor } from '../../domain/clients/service'
import type { UserAggregate } from '../../domain/users/serialize'
import type { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import type { InstanceSettings } from '../../tenancy/settings'

/**
 * One way to prove who you are, behind one interface: the sign-in and sign-up machines, the
 * signed-in user's verifications and step-up iterate the registry (./index.ts) and never name a
 * strategy. A factor module says when it is available, how it is prepared (a challenge we send
 * or answer in place, or an external redirect), how an attempt is checked, and, for factors that
 * come back from a redirect, how the callback is completed.
 */

/** The step a factor serves in a sign-in (and which challenge step it issues). */
export type FactorKind = 'first' | 'second' | 'reset'

/**
 * How the person answers: a secret they know, typed in the request (a password); a code we sent
 * or their device shows; a link they open; a redirect they come back from; a token they present.
 */
export type AnswerKind = 'secret' | 'code' | 'link' | 'redirect' | 'token'

/** One entry of `supported_first_factors` / `supported_second_factors` (wire shape). */
export interface FactorOption {
  strategy: string
  safe_identifier: string | null
  email_address_id?: string
  phone_number_id?: string
  primary?: boolean
}

/** The thing a challenge belongs to and the step it proves. */
export interface ChallengeParent {
  type: ChallengeRow['parentType']
  id: string
  clientId: string | null
}

/** What an issue request may name (`POST …/challenges`). */
export interface PrepareInput {
  email_address_id?: string
  phone_number_id?: string
  redirect_url?: string
}

export interface PrepareParams {
  tx: EnvTx
  ctx: EnvContext
  after: After
  /** The requesting device (links back to this Frontend API, redirect URL checks). */
  actor: ClientActor | null
  parent: ChallengeParent
  /** The chosen option (which address or number), from options() or decoyOptions(). */
  option: FactorOption
  input: PrepareInput
  /** The sign-in's user; null when enumeration protection hides that nobody owns the identifier. */
  user: UserAggregate | null
  /** The identifier typed at sign-in (a decoy challenge is addressed to it). */
  identifier: string | null
}

/** The outcome of preparing a factor: a challenge, and for redirect factors where to send the browser. */
export interface Prepared {
  challenge: ChallengeRow
  /**
   * Redirect factors (social and enterprise sign-in): the external verification URL. The
   * server-side state is the challenge, found again by the opaque `state` (its hash is stored).
   */
  externalVerificationRedirectUrl?: string
}

/** The body of an answer (`POST …/challenges/{cid}/answer`). */
export interface AnswerInput {
  code?: string
  password?: string
}

/** Who the sign-in is for and why the attempt is made (messages differ between sign-in and step-up). */
export interface AttemptParams {
  ctx: EnvContext
  user: UserAggregate | null
  input: AnswerInput
  purpose: 'sign_in' | 'step_up'
}

/** An identity an external provider vouched for that no user has yet (sign-in → sign-up transfer). */
export interface ExternalIdentity {
  provider: string
  subject: string
  emailAddress: string | null
  emailVerified: boolean
  firstName: string | null
  lastName: string | null
  /** What the factor needs to link the identity to the user a transfer creates. */
  data: Record<string, unknown>
}

/**
 * What a callback (or an identifying factor) established. `user`: the factor yields the user
 * itself (a ticket, an IdP-initiated assertion, a discoverable passkey). `transfer`: a verified
 * external identity without a user, which the client may turn into a sign-up. A `user` outcome's
 * `commit` runs in the sign-in's transaction (the factor links or refreshes its external account).
 */
export type FactorOutcome =
  | { kind: 'user'; userId: string; commit?: (tx: EnvTx, ctx: EnvContext) => void }
  | { kind: 'transfer'; identity: ExternalIdentity }
  | { kind: 'failed'; error: AppError }

export interface Factor {
  strategy: string
  kind: FactorKind
  answer: AnswerKind
  /** A step-up (`/v1/client/sessions/{sid}/verify`) may use it. */
  stepUp: boolean
  /**
   * The challenge may be answered without being issued first (`cid` = the strategy name): the
   * password, which needs nothing sent.
   */
  implicit?: boolean
  /** The options this user has for the factor under the env's settings (empty: unavailable). */
  options(ctx: EnvContext, user: UserAggregate): FactorOption[]
  /**
   * Options when no user is known yet: factors that find the user themselves (an external
   * provider, a passkey) are offered to anyone.
   */
  anonymousOptions?(ctx: EnvContext): FactorOption[]
  /**
   * Options for an identifier nobody owns: the decoy shown under enumeration protection, and for
   * a redirect factor that finds or provisions the user itself (an enterprise IdP), the way in.
   */
  decoyOptions?(ctx: EnvContext, identifier: string): FactorOption[]
  /**
   * First factors: this factor is the only way in for this user or identifier (an enterprise
   * connection that enforces SSO for the email's domain); every other first factor is then
   * hidden and refused.
   */
  exclusive?(ctx: EnvContext, user: UserAggregate | null, identifier: string | null): boolean
  /** Second factors: has the user enrolled it at all, whatever the env allows (`setup-mfa`)? */
  enrolled?(user: UserAggregate): boolean
  /** Checks an issue request before anything is written (a magic link needs its redirect URL). */
  validatePrepare?(ctx: EnvContext, actor: ClientActor | null, input: PrepareInput): void
  /** Issues the challenge (or the external redirect) in the caller's transaction. */
  prepare(p: PrepareParams): Prepared
  /**
   * Checks the answer's shape before any transaction (a malformed answer is a 4xx that changes
   * nothing) and does the slow part there (a password hash). Its result is handed to check().
   */
  precheck?(p: AttemptParams): Promise<boolean | null>
  /** Checks the answer inside the transaction; true when it proves the factor. */
  check(tx: EnvTx, p: AttemptParams & { challenge: ChallengeRow; prechecked: boolean | null }): boolean
  /** The error a wrong answer reports (counted toward the lockout by the machine). */
  wrongAnswer(p: AttemptParams): AppError
  /**
   * Redirect factors: completes the verification from the provider's callback (token exchange,
   * assertion validation); the machine then signs in, links or transfers.
   */
  callback?(ctx: EnvContext, challenge: ChallengeRow, params: URLSearchParams): Promise<FactorOutcome>
  /**
   * Redirect factors: a sign-up took the external identity over (a transfer) and made this user;
   * link the identity to it, in the sign-up's transaction.
   */
  onTransferred?(tx: EnvTx, ctx: EnvContext, userId: string, identity: ExternalIdentity): void
  /**
   * Identifying factors (a ticket): the create request names the user by itself. null when the
   * request is not for this factor; `commit` uses the proof up in the sign-in's transaction.
   */
  identify?(ctx: EnvContext, input: { ticket?: string; strategy?: string }): Identified | null
}

export interface Identified {
  userId: string
  /** The identifying factor's strategy (how the person got in). */
  strategy: string
  commit(tx: EnvTx, ctx: EnvContext): void
}

/**
 * Factors that verify an identifier at sign-up and on the profile (a code or a link sent to it).
 * A factor may do both: email_code signs in and verifies addresses.
 */
export interface IdentifierVerifier {
  strategy: string
  verifies: 'email_address' | 'phone_number'
  /** Offered for verification under these settings. */
  enabled(settings: InstanceSettings, purpose: 'sign_up' | 'profile'): boolean
  /** Sends the code or link to the identifier in the caller's transaction. */
  prepareVerification(p: {
    tx: EnvTx
    ctx: EnvContext
    after: After
    actor: ClientActor | null
    parent: ChallengeParent
    target: { id: string | null; value: string }
    purpose: 'sign_up' | 'profile'
    redirectUrl?: string
  }): ChallengeRow
  /** A link is opened, not answered with a code. */
  answer: AnswerKind
  validatePrepare?(ctx: EnvContext, actor: ClientActor | null, input: PrepareInput): void
}
