CREATE TABLE `envs` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`indexed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hosts` (
	`host` text PRIMARY KEY NOT NULL,
	`env_id` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `secret_keys` (
	`hash` text PRIMARY KEY NOT NULL,
	`env_id` text NOT NULL
);
