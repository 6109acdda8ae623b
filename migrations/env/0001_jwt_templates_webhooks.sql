CREATE TABLE `jwt_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`claims` text NOT NULL,
	`lifetime` integer NOT NULL,
	`allowed_clock_skew` integer NOT NULL,
	`signing_algorithm` text,
	`custom_signing_key` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jwt_templates_name_unique` ON `jwt_templates` (`name`);--> statement-breakpoint
CREATE INDEX `jwt_templates_created` ON `jwt_templates` (`created_at`,`id`);