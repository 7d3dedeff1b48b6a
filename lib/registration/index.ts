export { INSTANCE_FIELD, type InstanceRecord, instanceRecord } from '../core/instance-record.js';
export type {
  AttestAuthMethod,
  KeyUserAuthenticationRequirement,
  Template,
  TemplateAndroidKeySettings,
  TemplateAppAttestSettings,
  TemplateApprovals,
  TemplateAttestation,
  TemplateClientMetadata,
  TemplateFirstParty,
  TemplateInstanceField,
  TemplateLookup,
  TemplateNativeSso,
  TemplatePlayIntegritySettings,
  TemplateResolver,
  TemplateTtlOptions,
  TrustedAttester,
} from '../core/template-types.js';
export { createDcrGate, type DcrGateSettings, registrationOpener } from './dcr-gate.js';
export { createInstancePolicy } from './instance-policy.js';
export { applyInstanceRules } from './instance-rules.js';
export type { RegistrationPolicy, RegistrationPolicyInput } from './policy-types.js';
export { redirectUriProblem } from './redirect-uris.js';
export { type ResolvedTemplate, TemplateSource, templateProblems } from './templates.js';
