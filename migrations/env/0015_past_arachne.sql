ALTER TABLE `oauth_tokens` ADD `access_jti` text;--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_tokens_access_jti_unique` ON `oauth_tokens` (`access_jti`);