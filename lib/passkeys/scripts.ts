// The pages' WebAuthn scripts, sent inline with the page's CSP nonce. WebAuthn takes and gives
// ArrayBuffers where the JSON options and the server want base64url: the two helpers convert.
// They read their options from the form's `data-options` and post the credential as JSON in the
// form's hidden `credential` field, so the page works as a plain form post (no fetch, and the CSP
// keeps `default-src 'none'`). Without WebAuthn in the browser they leave the page as it is.

const HELPERS =
  // base64url text → bytes (atob accepts the missing padding: forgiving-base64).
  `const bytes=(t)=>Uint8Array.from(atob(t.replace(/-/g,'+').replace(/_/g,'/')),(c)=>c.charCodeAt(0));` +
  // bytes → base64url text, without padding.
  `const text=(b)=>{const a=new Uint8Array(b);let s='';for(let i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');};` +
  `const ids=(l)=>(l||[]).map((c)=>Object.assign({},c,{id:bytes(c.id)}));`;

/**
 * The login page's script: the "Sign in with a passkey" button (`#passkey-button`, shown only
 * where WebAuthn works) and passkey autofill on the username field (conditional mediation, where
 * the browser offers it). Its elements: `form#passkey-form` with `data-options` and a hidden
 * `credential` field, `#passkey-button`, and `#passkey-error` (shown when the passkey dialog
 * fails or is cancelled).
 *
 * @internal
 */
export const SIGN_IN_SCRIPT =
  `(()=>{const form=document.getElementById('passkey-form');const P=window.PublicKeyCredential;` +
  `if(!form||!P||!navigator.credentials)return;${HELPERS}` +
  `const options=JSON.parse(form.dataset.options);const button=document.getElementById('passkey-button');` +
  `const error=document.getElementById('passkey-error');let pending;let sent=false;` +
  `const send=(c)=>{const r=c.response;sent=true;if(button)button.disabled=true;` +
  `form.elements.namedItem('credential').value=JSON.stringify({id:c.id,rawId:text(c.rawId),type:c.type,` +
  `response:{clientDataJSON:text(r.clientDataJSON),authenticatorData:text(r.authenticatorData),signature:text(r.signature),` +
  `userHandle:r.userHandle?text(r.userHandle):undefined},clientExtensionResults:c.getClientExtensionResults()});form.submit();};` +
  // One request at a time: a new one (the button) aborts the pending one (autofill).
  `const ask=async(mediation)=>{if(pending)pending.abort();const controller=new AbortController();pending=controller;` +
  `try{const request={publicKey:Object.assign({},options,{challenge:bytes(options.challenge),allowCredentials:ids(options.allowCredentials)}),signal:controller.signal};` +
  `if(mediation)request.mediation=mediation;const c=await navigator.credentials.get(request);if(c&&!sent)send(c);}` +
  `catch(e){if(controller.signal.aborted||mediation)return;if(error)error.hidden=false;autofill();}};` +
  `const autofill=async()=>{try{if(P.isConditionalMediationAvailable&&await P.isConditionalMediationAvailable())ask('conditional');}catch(e){}};` +
  `if(button){button.hidden=false;button.addEventListener('click',()=>{if(error)error.hidden=true;ask();});}autofill();})();`;

/**
 * The passkey page's script: `form#passkey-register-form` (with `data-options`, a hidden
 * `credential` field and an optional `name` field) is shown where WebAuthn works, and
 * `#passkey-unsupported` hidden; submitting it runs `navigator.credentials.create()` and posts
 * the new credential. `#passkey-register-error` is shown when the dialog fails or is cancelled.
 *
 * @internal
 */
export const REGISTER_SCRIPT =
  `(()=>{const form=document.getElementById('passkey-register-form');const P=window.PublicKeyCredential;` +
  `if(!form||!P||!navigator.credentials||!navigator.credentials.create)return;${HELPERS}` +
  `const options=JSON.parse(form.dataset.options);const error=document.getElementById('passkey-register-error');` +
  `const unsupported=document.getElementById('passkey-unsupported');if(unsupported)unsupported.hidden=true;form.hidden=false;` +
  `let busy=false;form.addEventListener('submit',async(event)=>{event.preventDefault();if(busy)return;busy=true;if(error)error.hidden=true;` +
  `try{const c=await navigator.credentials.create({publicKey:Object.assign({},options,{challenge:bytes(options.challenge),` +
  `user:Object.assign({},options.user,{id:bytes(options.user.id)}),excludeCredentials:ids(options.excludeCredentials)})});` +
  `const r=c.response;form.elements.namedItem('credential').value=JSON.stringify({id:c.id,rawId:text(c.rawId),type:c.type,` +
  `response:{clientDataJSON:text(r.clientDataJSON),attestationObject:text(r.attestationObject),transports:r.getTransports?r.getTransports():[]},` +
  `clientExtensionResults:c.getClientExtensionResults()});form.submit();}` +
  `catch(e){busy=false;if(error)error.hidden=false;}});})();`;
