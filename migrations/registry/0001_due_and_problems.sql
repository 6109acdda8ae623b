ALTER TABLE `envs` ADD `next_due_at` integer DEFAULT 0;--> statement-breakpoint
ALTER TABLE `envs` ADD `problem` text;--> statement-breakpoint
CREATE INDEX `envs_next_due` ON `envs` (`next_due_at`);