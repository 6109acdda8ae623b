CREATE TABLE `enterprise_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`protocol` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`email_address` text,
	`first_name` text,
	`last_name` text,
	`last_authenticated_at` integer,
	`unlinked_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`connection_id`) REFERENCES `enterprise_connections`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `enterprise_accounts_identity` ON `enterprise_accounts` (`connection_id`,`provider_user_id`) WHERE "enterprise_accounts"."unlinked_at" IS NULL;--> statement-breakpoint
CREATE INDEX `enterprise_accounts_user` ON `enterprise_accounts` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `enterprise_accounts_created` ON `enterprise_accounts` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `enterprise_connection_domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	FOREIGN KEY (`connection_id`) REFERENCES `enterprise_connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `enterprise_connection_domains_connection` ON `enterprise_connection_domains` (`connection_id`);--> statement-breakpoint
CREATE TABLE `enterprise_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`protocol` text NOT NULL,
	`provider` text NOT NULL,
	`organization_id` text,
	`domains` text NOT NULL,
	`active` integer NOT NULL,
	`sync_user_attributes` integer NOT NULL,
	`jit_provisioning` integer NOT NULL,
	`allow_idp_initiated` integer NOT NULL,
	`allow_subdomains` integer NOT NULL,
	`attribute_mapping` text NOT NULL,
	`saml_idp_entity_id` text,
	`saml_idp_sso_url` text,
	`saml_idp_certificates` text NOT NULL,
	`saml_idp_metadata_url` text,
	`saml_idp_metadata` text,
	`saml_want_response_signed` integer NOT NULL,
	`saml_want_assertions_signed` integer NOT NULL,
	`saml_signing_key` text,
	`saml_signing_certificate` text,
	`oidc_issuer` text,
	`oidc_client_id` text,
	`oidc_client_secret` text,
	`oidc_scopes` text,
	`oidc_token_auth_method` text,
	`oidc_metadata` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE INDEX `enterprise_connections_created` ON `enterprise_connections` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `enterprise_connections_org` ON `enterprise_connections` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `oidc_requests` (
	`challenge_id` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	`code_verifier` text NOT NULL,
	`nonce` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `oidc_requests_expiry` ON `oidc_requests` (`expires_at`);--> statement-breakpoint
CREATE TABLE `saml_assertion_ids` (
	`connection_id` text NOT NULL,
	`assertion_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `assertion_id`)
);
--> statement-breakpoint
CREATE INDEX `saml_assertion_ids_expiry` ON `saml_assertion_ids` (`expires_at`);--> statement-breakpoint
CREATE TABLE `saml_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	`challenge_id` text NOT NULL,
	`issued_at` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `saml_requests_expiry` ON `saml_requests` (`expires_at`);