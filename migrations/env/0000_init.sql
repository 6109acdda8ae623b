CREATE TABLE `environment` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`settings` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hosts` (
	`host` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `secret_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`hint` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `secret_keys_hash_unique` ON `secret_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `secret_keys_created` ON `secret_keys` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_created` ON `events` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_type_created` ON `events` (`type`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `email_addresses` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`email_address` text NOT NULL,
	`verified` integer NOT NULL,
	`verification_strategy` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_addresses_email_address_unique` ON `email_addresses` (`email_address`);--> statement-breakpoint
CREATE INDEX `email_addresses_user` ON `email_addresses` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `phone_numbers` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`verified` integer NOT NULL,
	`verification_strategy` text,
	`reserved_for_second_factor` integer DEFAULT false NOT NULL,
	`default_second_factor` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `phone_numbers_phone_number_unique` ON `phone_numbers` (`phone_number`);--> statement-breakpoint
CREATE INDEX `phone_numbers_user` ON `phone_numbers` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`external_id` text,
	`username` text,
	`first_name` text,
	`last_name` text,
	`image_url` text,
	`password_digest` text,
	`password_updated_at` integer,
	`public_metadata` text NOT NULL,
	`private_metadata` text NOT NULL,
	`unsafe_metadata` text NOT NULL,
	`primary_email_address_id` text,
	`primary_phone_number_id` text,
	`banned` integer DEFAULT false NOT NULL,
	`locked_at` integer,
	`locked_until` integer,
	`failed_verification_attempts` integer DEFAULT 0 NOT NULL,
	`last_sign_in_at` integer DEFAULT 0 NOT NULL,
	`last_active_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_external_id_unique` ON `users` (`external_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);--> statement-breakpoint
CREATE INDEX `users_created` ON `users` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_updated` ON `users` (`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_last_sign_in` ON `users` (`last_sign_in_at`,`id`);