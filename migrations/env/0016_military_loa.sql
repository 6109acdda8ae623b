ALTER TABLE `oauth_providers` ADD `private_key` text;--> statement-breakpoint
ALTER TABLE `oauth_providers` ADD `preset_options` text;