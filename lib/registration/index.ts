export { createDcrGate, type DcrGateSettings, registrationOpener } from './dcr-gate.js';
export {
  createInstancePolicy,
  INSTANCE_FIELD,
  type InstanceRecord,
  instanceRecord,
} from './instance-policy.js';
export { applyInstanceRules, redirectUriProblem } from './instance-rules.js';
export type { RegistrationPolicy, RegistrationPolicyInput } from './policy-types.js';
export type {
  AttestAuthMethod,
  Template,
  TemplateAndroidKeySettings,
  TemplateAppAttestSettings,
  TemplateAttestation,
  TemplateClientMetadata,
  TemplateInstanceField,
  TemplateLookup,
  TemplatePlayIntegritySettings,
  TemplateResolver,
  TemplateTtlOptions,
  TrustedAttester,
} from './template-types.js';
export { type ResolvedTemplate, TemplateSource, templateProblems } from './templates.js';
