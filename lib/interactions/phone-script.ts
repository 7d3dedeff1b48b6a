/**
 * The waiting page's script: polls the status URL every two seconds and follows the continue
 * link once the phone answered (or the request expired, or the status cannot be read). It reads
 * both URLs from `<div id="phone-waiting" data-status="…" data-continue="…">` and needs
 * `connect-src 'self'`, which the waiting page's CSP allows.
 *
 * @internal
 */
export const PHONE_WAITING_SCRIPT = `(() => {
  const box = document.getElementById('phone-waiting');
  if (!box) return;
  const go = () => window.location.assign(box.dataset.continue);
  const poll = async () => {
    try {
      const res = await fetch(box.dataset.status, { credentials: 'same-origin', cache: 'no-store' });
      const body = res.ok ? await res.json() : { status: 'done' };
      if (body.status !== 'pending') return go();
    } catch {
      // A network blip: try again on the next tick.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
})();`;
