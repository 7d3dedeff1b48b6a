import { createExpressApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const { app, auth } = await createExpressApp({
  ...process.env,
  ISSUER: process.env.ISSUER ?? `http://localhost:${port}/oidc`,
});
app.listen(port, () => console.log(`Express app on port ${port}; issuer ${auth.issuer}`));
