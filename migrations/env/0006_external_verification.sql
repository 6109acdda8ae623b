ALTER TABLE `challenges` ADD `external_url` text;--> statement-breakpoint
ALTER TABLE `challenges` ADD `payload` text;--> statement-breakpoint
ALTER TABLE `sign_ups` ADD `transfer_challenge_id` text;