"""End-to-end tests: a real Chromium (Debian's /usr/bin/chromium) driven through Playwright."""
