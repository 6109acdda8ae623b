/** Claims every template token carries; a template may not set them. */
export const RESERVED_CLAIMS = ['iss', 'sub', 'iat', 'nbf', 'exp', 'jti', 'azp'] as const

/** A template token's lifetime and clock-skew allowance unless the template says otherwise (seconds). */
export const DEFAULT_LIFETIME = 60
export const DEFAULT_CLOCK_SKEW = 5
