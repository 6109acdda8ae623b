/** `{{name}}` substitution; unknown variables render empty. */
export const render = (template: string, vars: Record<string, string>) =>
  template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '')

export const EMAIL_TEMPLATES = {
  verification_code: {
    subject: '{{code}} is your {{app_name}} verification code',
    body: 'Your {{app_name}} verification code is {{code}}.\n\nIt expires in 10 minutes. If you did not ask for it, ignore this email.',
  },
  reset_password_code: {
    subject: '{{code}} is your {{app_name}} password reset code',
    body: 'Your {{app_name}} password reset code is {{code}}.\n\nIt expires in 10 minutes. If you did not ask for it, ignore this email.',
  },
  magic_link_sign_in: {
    subject: 'Sign in to {{app_name}}',
    body: 'Click to sign in to {{app_name}}:\n\n{{action_url}}\n\nThe link expires in 10 minutes.',
  },
  magic_link_sign_up: {
    subject: 'Sign up to {{app_name}}',
    body: 'Click to finish signing up to {{app_name}}:\n\n{{action_url}}\n\nThe link expires in 10 minutes.',
  },
  magic_link_user_profile: {
    subject: 'Verify your email for {{app_name}}',
    body: 'Click to verify this email address for {{app_name}}:\n\n{{action_url}}\n\nThe link expires in 10 minutes.',
  },
  sign_up_existing_account: {
    subject: 'Someone tried to sign up to {{app_name}} with your email',
    body: 'Someone tried to create a {{app_name}} account with this email address, which already has one.\n\nIf it was you, sign in instead. If not, you can ignore this email: nothing changed.',
  },
  invitation: {
    subject: 'You are invited to {{app_name}}',
    body: 'You have been invited to {{app_name}}. Accept the invitation:\n\n{{action_url}}',
  },
  organization_invitation: {
    subject: 'You are invited to join {{org_name}} on {{app_name}}',
    body: '{{inviter_name}} invited you to join {{org_name}} on {{app_name}}. Accept the invitation:\n\n{{action_url}}',
  },
} as const
export type EmailTemplate = keyof typeof EMAIL_TEMPLATES

export const SMS_TEMPLATES = {
  verification_code: {
    name: 'Verification code',
    body: '{{code}} is your {{app_name}} verification code.',
    required: ['code'],
  },
  reset_password_code: {
    name: 'Reset password code',
    body: '{{code}} is your {{app_name}} password reset code.',
    required: ['code'],
  },
  invitation: {
    name: 'Invitation',
    body: 'You are invited to {{app_name}}: {{action_url}}',
    required: ['action_url'],
  },
} as const
export type SmsTemplate = keyof typeof SMS_TEMPLATES
export const SMS_VARIABLES = ['code', 'app_name', 'action_url'] as const
