import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './mapping'

/** RFC 7643 §7 attribute definitions: what we validate against and publish on /Schemas. */
export interface AttrDef {
  name: string
  type: 'string' | 'boolean' | 'complex' | 'dateTime' | 'reference' | 'binary'
  multiValued: boolean
  description: string
  required: boolean
  caseExact: boolean
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
  returned: 'always' | 'never' | 'default' | 'request'
  uniqueness: 'none' | 'server' | 'global'
  canonicalValues?: string[]
  referenceTypes?: string[]
  subAttributes?: AttrDef[]
}

const attr = (name: string, description: string, extra: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type: 'string',
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
})

const complex = (name: string, description: string, subAttributes: AttrDef[], extra: Partial<AttrDef> = {}) =>
  attr(name, description, { type: 'complex', subAttributes, ...extra })

/** value/display/type/primary: the shape of emails, phoneNumbers, ims, photos, roles, … */
const multi = (name: string, description: string, types: string[] = [], valueExtra: Partial<AttrDef> = {}) =>
  complex(
    name,
    description,
    [
      attr('value', `The ${name} value.`, valueExtra),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr(
        'type',
        'A label indicating the function of the value.',
        types.length ? { canonicalValues: types } : {},
      ),
      attr('primary', 'Whether this is the primary value of the attribute.', { type: 'boolean' }),
    ],
    { multiValued: true },
  )

export const ID_ATTR = attr(
  'id',
  'Unique identifier for the SCIM resource as defined by the service provider.',
  {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  },
)
export const EXTERNAL_ID_ATTR = attr(
  'externalId',
  'An identifier for the resource as defined by the provisioning client.',
  {
    caseExact: true,
  },
)

export const USER_ATTRS: AttrDef[] = [
  attr('userName', 'Unique identifier for the User, typically used to sign in. Unique case-insensitively.', {
    required: true,
    uniqueness: 'server',
  }),
  complex('name', "The components of the user's name.", [
    attr('formatted', 'The full name, formatted for display.'),
    attr('familyName', 'The family name of the User.'),
    attr('givenName', 'The given name of the User.'),
    attr('middleName', 'The middle name(s) of the User.'),
    attr('honorificPrefix', 'The honorific prefix(es) of the User.'),
    attr('honorificSuffix', 'The honorific suffix(es) of the User.'),
  ]),
  attr('displayName', 'The name of the User, suitable for display to end-users.'),
  attr('nickName', 'The casual way to address the user in real life.'),
  attr('profileUrl', "A fully qualified URL pointing to a page representing the User's online profile.", {
    type: 'reference',
    referenceTypes: ['external'],
  }),
  attr('title', "The user's title, such as 'Vice President'."),
  attr('userType', 'Used to identify the relationship between the organization and the user.'),
  attr('preferredLanguage', "The User's preferred written or spoken language."),
  attr('locale', "The User's default location for localizing."),
  attr('timezone', "The User's time zone in the 'Olson' time zone database format."),
  attr('active', "The User's administrative status: false deactivates (bans) the user.", { type: 'boolean' }),
  attr('password', 'Not stored: users provisioned by SCIM sign in through their IdP.', {
    mutability: 'writeOnly',
    returned: 'never',
  }),
  multi('emails', 'Email addresses for the user. The primary (or first) one is the user’s sign-in address.', [
    'work',
    'home',
    'other',
  ]),
  multi('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multi('ims', 'Instant messaging addresses for the User.'),
  multi('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], {
    type: 'reference',
    referenceTypes: ['external'],
  }),
  complex(
    'addresses',
    'A physical mailing address for this User.',
    [
      attr('formatted', 'The full mailing address, formatted for display.'),
      attr('streetAddress', 'The full street address component.'),
      attr('locality', 'The city or locality component.'),
      attr('region', 'The state or region component.'),
      attr('postalCode', 'The zip code or postal code component.'),
      attr('country', 'The country name component.'),
      attr('type', 'A label indicating the function of the address.', {
        canonicalValues: ['work', 'home', 'other'],
      }),
      attr('primary', 'Whether this is the primary address.', { type: 'boolean' }),
    ],
    { multiValued: true },
  ),
  complex(
    'groups',
    'The groups the user belongs to (derived from Group members; read-only).',
    [
      attr('value', 'The identifier of the Group.', { mutability: 'readOnly' }),
      attr('$ref', 'The URI of the Group.', {
        type: 'reference',
        referenceTypes: ['Group'],
        mutability: 'readOnly',
      }),
      attr('display', 'The display name of the Group.', { mutability: 'readOnly' }),
      attr('type', 'direct', { mutability: 'readOnly', canonicalValues: ['direct'] }),
    ],
    { multiValued: true, mutability: 'readOnly' },
  ),
  multi('entitlements', 'A list of entitlements for the User.'),
  multi('roles', 'A list of roles for the User.'),
  multi('x509Certificates', 'A list of certificates issued to the User.', [], { type: 'binary' }),
]

export const ENTERPRISE_ATTRS: AttrDef[] = [
  attr('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person by the organization.'),
  attr('costCenter', 'Identifies the name of a cost center.'),
  attr('organization', 'Identifies the name of an organization.'),
  attr('division', 'Identifies the name of a division.'),
  attr('department', 'Identifies the name of a department.'),
  complex('manager', "The User's manager.", [
    attr('value', 'The id of the SCIM resource representing the manager.'),
    attr('$ref', 'The URI of the manager.', { type: 'reference', referenceTypes: ['User'] }),
    attr('displayName', 'The displayName of the manager.', { mutability: 'readOnly' }),
  ]),
]

export const GROUP_ATTRS: AttrDef[] = [
  attr(
    'displayName',
    'A human-readable name for the Group. Unique in the organization, case-insensitively.',
    {
      required: true,
      uniqueness: 'server',
    },
  ),
  complex(
    'members',
    'A list of members of the Group (users of this directory).',
    [
      attr('value', 'The id of the member.', { mutability: 'immutable', caseExact: true }),
      attr('$ref', 'The URI of the member.', {
        type: 'reference',
        referenceTypes: ['User'],
        mutability: 'immutable',
      }),
      attr('display', 'The display name of the member.'),
      attr('type', 'The type of the member.', { mutability: 'immutable', canonicalValues: ['User'] }),
    ],
    { multiValued: true },
  ),
]

const schemaResource = (
  id: string,
  name: string,
  description: string,
  attributes: AttrDef[],
  base: string,
) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id,
  name,
  description,
  attributes,
  meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
})

export const schemaResources = (base: string) => [
  schemaResource(CORE_USER, 'User', 'User Account', USER_ATTRS, base),
  schemaResource(ENTERPRISE_USER, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRS, base),
  schemaResource(CORE_GROUP, 'Group', 'Group', GROUP_ATTRS, base),
]

export const resourceTypes = (base: string) => [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: CORE_USER,
    schemaExtensions: [{ schema: ENTERPRISE_USER, required: false }],
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: CORE_GROUP,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
  },
]

export const MAX_RESULTS = 1000

export const serviceProviderConfig = (base: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_RESULTS },
  changePassword: { supported: false },
  sort: { supported: true },
  etag: { supported: true },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'Bearer token',
      description: 'A SCIM token issued for the organization (Authorization: Bearer scim_…).',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
})
