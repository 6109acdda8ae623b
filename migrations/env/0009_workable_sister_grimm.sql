CREATE TABLE `external_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`oauth_provider_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`email_address` text,
	`email_address_verified` integer NOT NULL,
	`first_name` text,
	`last_name` text,
	`username` text,
	`image_url` text,
	`approved_scopes` text NOT NULL,
	`access_token` text,
	`refresh_token` text,
	`access_token_expires_at` integer,
	`last_authenticated_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`oauth_provider_id`) REFERENCES `oauth_providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `external_accounts_identity` ON `external_accounts` (`oauth_provider_id`,`provider_user_id`);--> statement-breakpoint
CREATE INDEX `external_accounts_user` ON `external_accounts` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `oauth_flows` (
	`challenge_id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`code_verifier` text,
	`nonce` text,
	`intent` text NOT NULL,
	`user_id` text,
	`expire_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `oauth_providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `oauth_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_key` text NOT NULL,
	`provider_kind` text NOT NULL,
	`preset` text,
	`name` text NOT NULL,
	`enabled` integer NOT NULL,
	`authenticatable` integer NOT NULL,
	`client_id` text NOT NULL,
	`client_secret` text,
	`scopes` text,
	`discovery_url` text,
	`issuer` text,
	`authorization_url` text,
	`token_url` text,
	`userinfo_url` text,
	`jwks_url` text,
	`revocation_url` text,
	`pkce` integer,
	`token_auth_method` text,
	`attribute_mapping` text NOT NULL,
	`deleted_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_providers_key` ON `oauth_providers` (`provider_key`);--> statement-breakpoint
CREATE INDEX `oauth_providers_created` ON `oauth_providers` (`created_at`,`id`);