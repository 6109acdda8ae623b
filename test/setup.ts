// Loaded before every test file (bunfig.toml). Tests never reach beyond loopback.
process.env.AUTHN_LOG_LEVEL ??= 'silent'
