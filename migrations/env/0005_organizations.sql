CREATE TABLE `organization_domains` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`name` text NOT NULL,
	`enrollment_mode` text NOT NULL,
	`verified` integer NOT NULL,
	`verification_strategy` text,
	`verified_at` integer,
	`affiliation_email_address` text,
	`dns_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organization_domains_name_unique` ON `organization_domains` (`name`);--> statement-breakpoint
CREATE INDEX `organization_domains_org` ON `organization_domains` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `organization_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`email_address` text NOT NULL,
	`role_id` text,
	`role_key` text NOT NULL,
	`inviter_user_id` text,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`ticket_hash` text NOT NULL,
	`redirect_url` text,
	`public_metadata` text NOT NULL,
	`private_metadata` text NOT NULL,
	`expire_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`role_id`) REFERENCES `roles`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organization_invitations_ticket_hash_unique` ON `organization_invitations` (`ticket_hash`);--> statement-breakpoint
CREATE INDEX `organization_invitations_org` ON `organization_invitations` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `organization_invitations_email` ON `organization_invitations` (`email_address`,`status`);--> statement-breakpoint
CREATE INDEX `organization_invitations_role` ON `organization_invitations` (`role_id`);--> statement-breakpoint
CREATE TABLE `organization_membership_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`user_id` text NOT NULL,
	`email_address` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organization_membership_requests_org_user` ON `organization_membership_requests` (`organization_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `organization_membership_requests_org` ON `organization_membership_requests` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `organization_membership_requests_user` ON `organization_membership_requests` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `organization_memberships` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role_id` text NOT NULL,
	`public_metadata` text NOT NULL,
	`private_metadata` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`role_id`) REFERENCES `roles`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organization_memberships_org_user` ON `organization_memberships` (`organization_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `organization_memberships_org` ON `organization_memberships` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `organization_memberships_user` ON `organization_memberships` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `organization_memberships_role` ON `organization_memberships` (`role_id`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`image_url` text,
	`max_allowed_memberships` integer,
	`admin_delete_enabled` integer DEFAULT true NOT NULL,
	`public_metadata` text NOT NULL,
	`private_metadata` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `organizations_slug_unique` ON `organizations` (`slug`);--> statement-breakpoint
CREATE INDEX `organizations_created` ON `organizations` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `permissions` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`type` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `permissions_key_unique` ON `permissions` (`key`);--> statement-breakpoint
CREATE INDEX `permissions_created` ON `permissions` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `role_permissions` (
	`role_id` text NOT NULL,
	`permission_id` text NOT NULL,
	PRIMARY KEY(`role_id`, `permission_id`),
	FOREIGN KEY (`role_id`) REFERENCES `roles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`permission_id`) REFERENCES `permissions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `role_permissions_perm` ON `role_permissions` (`permission_id`);--> statement-breakpoint
CREATE TABLE `roles` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roles_key_unique` ON `roles` (`key`);--> statement-breakpoint
CREATE INDEX `roles_created` ON `roles` (`created_at`,`id`);