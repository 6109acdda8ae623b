CREATE TABLE `challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`parent_type` text NOT NULL,
	`parent_id` text NOT NULL,
	`step` text NOT NULL,
	`strategy` text NOT NULL,
	`status` text NOT NULL,
	`target_id` text,
	`target` text,
	`code_hash` text,
	`link_token_hash` text,
	`redirect_url` text,
	`client_id` text,
	`verified_from_client_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`expire_at` integer NOT NULL,
	`verified_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `challenges_parent` ON `challenges` (`parent_type`,`parent_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `challenges_link` ON `challenges` (`link_token_hash`);--> statement-breakpoint
CREATE INDEX `challenges_expiry` ON `challenges` (`status`,`expire_at`);--> statement-breakpoint
CREATE TABLE `clients` (
	`id` text PRIMARY KEY NOT NULL,
	`rotating_token_hash` text NOT NULL,
	`sign_in_id` text,
	`sign_up_id` text,
	`last_active_session_id` text,
	`last_authentication_strategy` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `clients_created` ON `clients` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`template` text NOT NULL,
	`to` text NOT NULL,
	`from` text,
	`subject` text,
	`body` text,
	`status` text NOT NULL,
	`delivered_by_us` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`next_attempt_at` integer,
	`sent_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_created` ON `messages` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `messages_retry` ON `messages` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `sms_templates` (
	`slug` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`delivered_by_us` integer NOT NULL,
	`from_number_override` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`tasks` text NOT NULL,
	`last_active_at` integer NOT NULL,
	`expire_at` integer,
	`abandon_at` integer,
	`first_factor_verified_at` integer NOT NULL,
	`second_factor_verified_at` integer,
	`last_active_organization_id` text,
	`ip_address` text,
	`user_agent` text,
	`ended_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_client` ON `sessions` (`client_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_created` ON `sessions` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_status` ON `sessions` (`status`,`expire_at`);--> statement-breakpoint
CREATE TABLE `sign_ins` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`status` text NOT NULL,
	`identifier` text,
	`user_id` text,
	`first_factor_challenge_id` text,
	`second_factor_challenge_id` text,
	`first_factor_strategy` text,
	`created_session_id` text,
	`abandon_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_ins_client` ON `sign_ins` (`client_id`);--> statement-breakpoint
CREATE INDEX `sign_ins_abandon` ON `sign_ins` (`status`,`abandon_at`);--> statement-breakpoint
CREATE TABLE `sign_ups` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`status` text NOT NULL,
	`email_address` text,
	`email_verified` integer DEFAULT false NOT NULL,
	`email_verification_strategy` text,
	`email_challenge_id` text,
	`phone_number` text,
	`phone_verified` integer DEFAULT false NOT NULL,
	`phone_challenge_id` text,
	`username` text,
	`password_digest` text,
	`first_name` text,
	`last_name` text,
	`unsafe_metadata` text NOT NULL,
	`public_metadata` text NOT NULL,
	`invitation_id` text,
	`created_user_id` text,
	`created_session_id` text,
	`abandon_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_ups_client` ON `sign_ups` (`client_id`);--> statement-breakpoint
CREATE INDEX `sign_ups_abandon` ON `sign_ups` (`status`,`abandon_at`);--> statement-breakpoint
CREATE TABLE `invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`email_address` text NOT NULL,
	`public_metadata` text NOT NULL,
	`ticket_hash` text NOT NULL,
	`redirect_url` text,
	`status` text NOT NULL,
	`expire_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invitations_ticket_hash_unique` ON `invitations` (`ticket_hash`);--> statement-breakpoint
CREATE INDEX `invitations_created` ON `invitations` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `invitations_email` ON `invitations` (`email_address`);--> statement-breakpoint
CREATE TABLE `sign_in_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`ticket_hash` text NOT NULL,
	`status` text NOT NULL,
	`expire_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sign_in_tokens_ticket_hash_unique` ON `sign_in_tokens` (`ticket_hash`);--> statement-breakpoint
CREATE INDEX `sign_in_tokens_created` ON `sign_in_tokens` (`created_at`,`id`);