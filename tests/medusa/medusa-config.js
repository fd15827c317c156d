// The Medusa server the integration tests run against (scripts/medusa.sh).
// CommonJS on purpose: no TypeScript build step, `medusa start` loads it as is.
// Admin UI off (it would need a Vite build), no Redis (in-memory event bus,
// cache and locking), test-only secrets: it listens on 127.0.0.1 only.
const { defineConfig } = require("@medusajs/framework/utils");

const databaseUrl = process.env.MEDUSA_DATABASE_URL;
if (!databaseUrl) {
  throw new Error(
    "MEDUSA_DATABASE_URL is not set: scripts/medusa.sh sets it to the Medusa database on the test Postgres",
  );
}
const cors = "http://127.0.0.1";

module.exports = defineConfig({
  projectConfig: {
    databaseUrl,
    http: {
      storeCors: cors,
      adminCors: cors,
      authCors: cors,
      jwtSecret: "flashsale-test-jwt-secret",
      cookieSecret: "flashsale-test-cookie-secret",
    },
  },
  admin: { disable: true },
});
