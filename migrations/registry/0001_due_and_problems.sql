ALTER TABLE `envs` ADD `next_due_at` integer;--> statement-breakpoint
ALTER TABLE `envs` ADD `problem` text;--> statement-breakpoint
CREATE INDEX `envs_next_due` ON `envs` (`next_due_at`);