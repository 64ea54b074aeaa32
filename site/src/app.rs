//! The page's view (Leptos, client-side). It renders [`Model`] and turns clicks, form
//! submissions and Google's callback into the model's events; the decisions live in
//! `state.rs`. After every call, "How it works" renders what `hops.rs` makes of it.
//!
//! Every text goes into the page as text nodes (Leptos never parses a string as HTML
//! here), and nothing sets a `style` attribute: the site's policy forbids inline styles.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::config::SiteConfig;
use crate::gis;
use crate::hops::{self, Answer, Call, HopView, Part, Reach, Source};
use crate::state::{HelloOutcome, HelloRequest, Model, Phase};

/// Mounts the page into `<body>`.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Whether Google's sign-in is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Google {
    /// No client ID configured.
    Off,
    /// The script is loading.
    Loading,
    /// `initialize` ran: the button can be drawn.
    Ready,
    /// The script did not load (offline, blocked).
    Failed,
}

/// The page's handles: all `Copy`, shared by the event handlers.
#[derive(Clone, Copy)]
struct Page {
    model: RwSignal<Model>,
    config: RwSignal<Option<SiteConfig>>,
    google: RwSignal<Google>,
    status: NodeRef<html::Div>,
    sign_in_heading: NodeRef<html::H2>,
    /// The last call the model took, with its request's number; `None` while a call is
    /// under way or nobody is signed in.
    call: RwSignal<Option<(u64, Call)>>,
    /// Where hops 2 to 4 of that call come from.
    source: RwSignal<Source>,
}

/// The browser's clock, seconds since the Unix epoch.
fn now_seconds() -> i64 {
    // Milliseconds as an f64: whole seconds fit exactly.
    (js_sys::Date::now() / 1000.0) as i64
}

impl Page {
    /// Reads `config.json`, then starts Google's library when configured.
    fn configure(self) {
        spawn_local(async move {
            match browser::load_config().await {
                Ok(config) => {
                    let client_id = config.google_client_id.clone();
                    self.config.set(Some(config));
                    self.model.update(|m| m.configured(Ok(())));
                    if let Some(client_id) = client_id {
                        self.google.set(Google::Loading);
                        let started = gis::start(&client_id, move |credential| {
                            self.credential(None, credential);
                        })
                        .await;
                        self.google.set(match started {
                            Ok(()) => Google::Ready,
                            Err(_) => Google::Failed,
                        });
                    }
                }
                Err(detail) => self.model.update(|m| m.configured(Err(detail))),
            }
        });
    }

    /// A token arrived: call the API with it.
    fn credential(self, attempt: Option<u64>, credential: String) {
        let request = self
            .model
            .try_update(|m| m.credential_received(attempt, credential))
            .flatten();
        if let Some(request) = request {
            self.call_hello(request);
        }
    }

    fn call_hello(self, request: HelloRequest) {
        let Some(url) = self
            .config
            .with_untracked(|c| c.as_ref().map(SiteConfig::hello_url))
        else {
            return;
        };
        self.call.set(None);
        spawn_local(async move {
            let sent_at = now_seconds();
            let answer = browser::get_hello(&url, &request.token).await;
            let outcome = answer
                .as_ref()
                .map_or(HelloOutcome::Unreachable, Answer::outcome);
            let taken = self
                .model
                .try_update(|m| m.hello_answered(request.id, &outcome))
                .unwrap_or(false);
            if taken {
                self.explain(
                    request.id,
                    Call::new(request.token.as_str(), sent_at, answer),
                );
            }
            // The form or button that started this is gone: put focus on the result.
            if let Some(status) = self.status.get_untracked() {
                let _ = status.focus();
            }
        });
    }

    /// Shows how call `id` went: at once what the page has, then (locally) the trace.
    fn explain(self, id: u64, call: Call) {
        let Some((source, fetch)) = self
            .config
            .with_untracked(|c| c.as_ref().map(|config| hops::source_for(config, &call)))
        else {
            return;
        };
        self.source.set(source);
        self.call.set(Some((id, call)));
        if let Some(fetch) = fetch {
            spawn_local(async move {
                let source = match browser::get_trace(&fetch.url, &fetch.request_id).await {
                    Ok(trace) => Source::Trace(Box::new(trace)),
                    Err(error) => Source::Failed(error),
                };
                // Only if the page still shows that call.
                if self.call.with_untracked(|c| c.as_ref().map(|(i, _)| *i)) == Some(id) {
                    self.source.set(source);
                }
            });
        }
    }

    /// The local sign-in form was sent.
    fn sign_in_locally(self, name: String, email: String) {
        let Some(endpoint) = self
            .config
            .with_untracked(|c| c.as_ref().and_then(SiteConfig::local_sign_in_endpoint))
        else {
            return;
        };
        let attempt = self.model.try_update(Model::sign_in_started);
        let Some(attempt) = attempt else { return };
        spawn_local(async move {
            match browser::local_sign_in(&endpoint, &name, &email).await {
                Ok(credential) => self.credential(Some(attempt), credential),
                Err(failure) => {
                    self.model.update(|m| m.sign_in_failed(attempt, failure));
                    if let Some(status) = self.status.get_untracked() {
                        let _ = status.focus();
                    }
                }
            }
        });
    }

    fn retry(self) {
        if let Some(request) = self.model.try_update(Model::retry).flatten() {
            self.call_hello(request);
        }
    }

    fn sign_out(self) {
        self.model.update(Model::sign_out);
        self.call.set(None);
        if self.google.get_untracked() != Google::Off {
            gis::disable_auto_select();
        }
        // After the next render, when the sign-in section is shown again: focus must not
        // fall back to <body> when the button that had it disappears.
        let heading = self.sign_in_heading;
        request_animation_frame(move || {
            if let Some(heading) = heading.get_untracked() {
                let _ = heading.focus();
            }
        });
    }
}

/// The whole page: status (announced), sign-in choices, and the signed-in actions.
#[component]
fn App() -> impl IntoView {
    let page = Page {
        model: RwSignal::new(Model::new()),
        config: RwSignal::new(None),
        google: RwSignal::new(Google::Off),
        status: NodeRef::new(),
        sign_in_heading: NodeRef::new(),
        call: RwSignal::new(None),
        source: RwSignal::new(Source::Loading),
    };
    page.configure();

    let model = page.model;
    let phase_name = move || model.with(|m| m.phase().name());
    let message = move || model.with(|m| m.phase().message());
    let status_class = move || {
        model.with(|m| match m.phase() {
            Phase::Greeting(_) => "status greeting",
            p if p.is_problem() => "status problem",
            _ => "status",
        })
    };
    let busy = move || model.with(|m| m.phase().is_busy()).to_string();
    let offers_sign_in = move || model.with(Model::offers_sign_in);
    let signed_in = move || model.with(Model::signed_in);
    let can_retry = move || model.with(Model::can_retry);

    let has_google = move || {
        page.config
            .with(|c| c.as_ref().is_some_and(|c| c.google_client_id.is_some()))
    };
    let has_local = move || {
        page.config
            .with(|c| c.as_ref().is_some_and(|c| c.local_sign_in_url.is_some()))
    };

    view! {
        <main class="card" aria-busy=busy>
            <h1>"Say hello"</h1>
            <p class="intro">"Sign in, and the greeting service says hello to you by name."</p>

            <div
                id="status"
                class=status_class
                role="status"
                aria-live="polite"
                aria-atomic="true"
                tabindex="-1"
                data-state=phase_name
                node_ref=page.status
            >
                <p id="message">{message}</p>
            </div>

            <section id="sign-in" aria-labelledby="sign-in-heading" hidden=move || !offers_sign_in()>
                <h2 id="sign-in-heading" tabindex="-1" node_ref=page.sign_in_heading>
                    "Sign in"
                </h2>
                <Show when=has_google>
                    <GoogleSignIn page=page />
                </Show>
                <Show when=has_local>
                    <LocalSignIn page=page />
                </Show>
            </section>

            <Show when=move || page.call.with(Option::is_some)>
                <HowItWorks page=page />
            </Show>

            <div class="actions" hidden=move || !signed_in()>
                <button id="try-again" type="button" hidden=move || !can_retry() on:click=move |_| page.retry()>
                    "Try again"
                </button>
                <button id="sign-out" type="button" class="secondary" on:click=move |_| page.sign_out()>
                    "Sign out"
                </button>
            </div>
        </main>
    }
}

/// Google's button, drawn by Google's library once it has loaded.
#[component]
fn GoogleSignIn(
    /// The page's handles.
    page: Page,
) -> impl IntoView {
    let button = NodeRef::<html::Div>::new();
    Effect::new(move || {
        if page.google.get() == Google::Ready
            && let Some(parent) = button.get()
        {
            // A failure leaves the note below to explain.
            if gis::render_button(&parent).is_err() {
                page.google.set(Google::Failed);
            }
        }
    });
    let note = move || match page.google.get() {
        Google::Loading => "Loading Google sign-in…",
        Google::Failed => {
            "Google sign-in couldn't be loaded. Check your connection and reload the page."
        }
        Google::Off | Google::Ready => "",
    };
    view! {
        <div class="google">
            <div id="google-sign-in" node_ref=button></div>
            <p class="note">{note}</p>
        </div>
    }
}

/// The local identity provider's form: any name and email get a token (development only).
#[component]
fn LocalSignIn(
    /// The page's handles.
    page: Page,
) -> impl IntoView {
    let name = RwSignal::new(String::from("Jane Doe"));
    let email = RwSignal::new(String::from("jane.doe@example.com"));
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (name, email) = (name.get_untracked(), email.get_untracked());
        if !name.trim().is_empty() {
            page.sign_in_locally(name.trim().to_owned(), email.trim().to_owned());
        }
    };
    view! {
        <form id="local-sign-in" class="local" aria-labelledby="local-sign-in-heading" on:submit=submit>
            <h3 id="local-sign-in-heading">"Local sign-in"</h3>
            <p class="note">
                "For development: the local identity provider signs a token for any name you type."
            </p>
            <label for="name">"Name"</label>
            <input id="name" name="name" type="text" autocomplete="name" required bind:value=name />
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="email" required bind:value=email />
            <button id="local-sign-in-button" type="submit">"Sign in"</button>
        </form>
    }
}

/// "How it works": the hops of the last call, behind a `<details>` whose summary is the
/// control (a button to the keyboard and to screen readers, no script needed to open it).
/// The element stays while the trace arrives, so an open view stays open.
#[component]
fn HowItWorks(
    /// The page's handles.
    page: Page,
) -> impl IntoView {
    let hops = move || {
        page.call.with(|call| {
            call.as_ref().map(|(_, call)| {
                page.source
                    .with(|source| hops::how_it_works(call, source, now_seconds()))
                    .hops
                    .into_iter()
                    .map(hop_view)
                    .collect_view()
            })
        })
    };
    view! {
        <details id="how-it-works" class="how">
            <summary>"How it works"</summary>
            <p class="note">"The hops of this request, in the order it went through them."</p>
            {hops}
        </details>
    }
}

fn hop_view(hop: HopView) -> impl IntoView {
    let heading = format!("{}-heading", hop.id);
    let labelled_by = heading.clone();
    let reach = match hop.reach {
        Reach::Passed | Reach::Unseen => None,
        Reach::Stopped(reason) => Some(
            view! {
                <p class="reach stopped"><strong>"Stopped here: "</strong>{reason}</p>
            }
            .into_any(),
        ),
        Reach::NotReached(reason) => Some(
            view! {
                <p class="reach not-reached"><strong>"Not reached. "</strong>{reason}</p>
            }
            .into_any(),
        ),
    };
    view! {
        <section id=hop.id class="hop" aria-labelledby=labelled_by>
            <h3 id=heading>{hop.title}</h3>
            {reach}
            {hop.parts.into_iter().map(part_view).collect_view()}
        </section>
    }
}

fn part_view(part: Part) -> AnyView {
    match part {
        Part::Field { label, value } => view! {
            <p class="field"><span class="label">{label}": "</span>{value}</p>
        }
        .into_any(),
        Part::Note(text) => view! { <p class="note">{text}</p> }.into_any(),
        // A figure named by its caption (aria-labelledby: Chromium does not name a figure
        // from its figcaption by itself), so each block has an accessible name; a <pre>
        // may not carry one (its role is generic).
        Part::Block { id, label, text } => {
            let caption = format!("{id}-caption");
            let labelled_by = caption.clone();
            view! {
                <figure class="block" aria-labelledby=labelled_by>
                    <figcaption id=caption>{label}</figcaption>
                    <pre id=id>{text}</pre>
                </figure>
            }
            .into_any()
        }
        Part::Command { id, label, text } => {
            let caption = format!("{id}-caption");
            let labelled_by = caption.clone();
            view! {
                <figure class="block command" aria-labelledby=labelled_by>
                    <figcaption id=caption>{label}</figcaption>
                    <pre id=id><code>{text}</code></pre>
                </figure>
            }
            .into_any()
        }
    }
}
