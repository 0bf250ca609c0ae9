import { startMailApp } from './app.ts';

// The example relying party, beside the portal: see the README ("Single sign-on example").
const required = (name: string) => {
  const value = process.env[name];
  if (!value) {
    console.error(
      `mail: set ${name} (register Mail with: npx gatehouse apps add --name Email --redirect-uri http://localhost:3000/callback --post-logout-redirect-uri http://localhost:3000/ --launch-url http://localhost:3000/login)`,
    );
    process.exit(2);
  }
  return value;
};

const port = Number(process.env.MAIL_PORT ?? 3000);
const app = await startMailApp({
  issuer: process.env.MAIL_ISSUER ?? 'http://localhost:8080/oidc',
  clientId: required('MAIL_CLIENT_ID'),
  clientSecret: required('MAIL_CLIENT_SECRET'),
  port,
  baseUrl: process.env.MAIL_BASE_URL ?? `http://localhost:${port}`,
  ...(process.env.MAIL_ACR_VALUES ? { acrValues: process.env.MAIL_ACR_VALUES } : {}),
});
console.log(`Mail is at ${app.url}`);
