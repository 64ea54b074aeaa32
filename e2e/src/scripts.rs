//! JavaScript the tests put in every page before the page's own scripts run.

/// Records each Content-Security-Policy violation the browser reports to the page (the
/// `securitypolicyviolation` event, which the browser fires for every blocked load, inline
/// script or style, and eval) in `window.cspViolations`. The console's own "Refused to ..."
/// lines are read as well ([`crate::chrome::Browser::console`]): the event is the one with
/// the directive and the blocked URI as fields, the console line is Chrome's wording.
pub const CSP_RECORDER: &str = r#"
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} ${e.sample || ""}`.trim()));
"#;

/// A stand-in for Google Identity Services (so the page does not load Google's): it records
/// what the page asks of `google.accounts.id` in `window.gisCalls`, and its button hands
/// `window.testCredential` to the page's callback as Google's does after a sign-in.
pub const GIS_STAND_IN: &str = r#"
window.gisCalls = { initialize: [], rendered: [], autoSelectDisabled: 0 };
window.google = { accounts: { id: {
  initialize(config) { window.gisCalls.initialize.push(config); },
  renderButton(parent, options) {
    window.gisCalls.rendered.push({ parentId: parent.id, options });
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign in with Google (stand-in)";
    button.onclick = () => window.gisCalls.initialize[0].callback(
      { credential: window.testCredential, select_by: "btn" });
    parent.appendChild(button);
  },
  disableAutoSelect() { window.gisCalls.autoSelectDisabled += 1; },
} } };
"#;

/// The label of [`GIS_STAND_IN`]'s button.
pub const GIS_STAND_IN_BUTTON: &str = "Sign in with Google (stand-in)";
