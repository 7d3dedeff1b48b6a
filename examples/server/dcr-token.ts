// Plays the app and its user for the walk-through of docs/example-server.md: signs in as the demo
// user through the registration client (code + PKCE, scope dcr) and prints the DCR token. A real
// app opens the system browser for this step; here the test suite's scripted browser fills in
// the pages.
import { registrationClient } from '../../test/helpers/example.js';
import { obtainDcrToken, SignInBrowser } from '../../test/helpers/sign-in.js';

const issuer = process.env.ISSUER ?? `http://localhost:${process.env.PORT ?? '3000'}`;
const { tokens } = await obtainDcrToken(await registrationClient(issuer), new SignInBrowser());
console.log(tokens.access_token);
