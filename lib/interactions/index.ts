export type { SignInEvent, SignInEvents, SignInThrottledEvent } from './events.js';
export type { PageMessages } from './messages.js';
export { SignInThrottle, type SignInThrottleSettings, type ThrottleDecision } from './throttle.js';
export type { InteractionOptions } from './types.js';
export type {
  AccountLinks,
  ConsentClient,
  ConsentView,
  CsrfField,
  DeviceItemView,
  DevicesView,
  ErrorView,
  FederatedButtonView,
  FirstPartySignInView,
  InstanceItemView,
  InstancesView,
  InteractionPages,
  LinkAccountView,
  LinkIdentityView,
  LinkProviderView,
  LinksReauthenticationView,
  LinksView,
  LinkView,
  LoginField,
  LoginFieldErrors,
  LoginView,
  LogoutClient,
  LogoutSuccessView,
  LogoutView,
  NativeSsoSessionView,
  PageForm,
  PageView,
  PasskeyItemView,
  PasskeyRegistrationView,
  PasskeySignInView,
  PasskeysView,
  PhoneSignInButtonView,
  PhoneWaitingView,
  ScopeView,
  SubmitField,
} from './views.js';

/** The URL path of one interaction's page, under the issuer's path. @internal */
export const interactionUrl = (basePath: string, uid: string): string =>
  `${basePath}/interaction/${uid}`;
