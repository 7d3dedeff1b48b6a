import type { Template } from 'mobile-oidc-provider';

/** Environment that turns Native SSO on between the example app and a second app. */
export interface NativeSsoEnv {
  /**
   * The group the example app and the notes app share, named after what lets them read each
   * other's keychain (your Apple team id, your Android signing certificate): turns Native SSO on.
   */
  NATIVE_SSO_GROUP?: string;
}

/** The second app of the group: it signs in with the example app's ID token and device secret. */
export const NOTES_SOFTWARE_ID = 'io.example.notes';
/** Where the notes app receives authorization responses (it never needs one to sign in). */
export const NOTES_REDIRECT_URI = 'io.example.notes:/callback';

/**
 * The templates with Native SSO: the example app joins the group, and the notes app is its
 * second member. Without `NATIVE_SSO_GROUP`, the example app as it is, and no notes app.
 */
export function nativeSsoTemplates(env: NativeSsoEnv, app: Template): Template[] {
  const group = env.NATIVE_SSO_GROUP?.trim();
  if (!group) return [app];
  return [
    { ...app, nativeSso: { group } },
    {
      software_id: NOTES_SOFTWARE_ID,
      client: {
        client_name: 'Example Notes',
        redirect_uris: [NOTES_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile offline_access',
      },
      nativeSso: { group },
    },
  ];
}
