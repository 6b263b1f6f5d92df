//! `mpp serve`: every Alipay+ API on one machine, through the Lambda functions' own handlers.

use crate::devkeys::DevKeys;
use crate::{other, CliError};
use axum::body::{to_bytes, Body as AxumBody};
use axum::extract::{Request as AxumRequest, State};
use axum::response::Response as AxumResponse;
use clap::Args;
use lambda_http::RequestExt;
use mpp_client::SignedClient;
use mpp_core::clock::{Clock, SystemClock};
use mpp_core::edge::{no_interface, Edge};
use mpp_core::operations;
use mpp_core::payments::Policy;
use mpp_core::seed::Seed;
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner, VerifierConfig};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports as Stores;
use mpp_core::wire::MAX_BODY_BYTES;
use mpp_core::wiring::Wiring;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The most we read of a request body; past `MAX_BODY_BYTES` the handler answers
/// `PARAM_ILLEGAL`, past this the body is not even read (a hostile 1 GB body costs nothing).
const READ_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The demo wallet a first start seeds when no `--seed` is given.
const DEMO_SEED: &[u8] = include_bytes!("../../examples/seed.json");

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Alipay+'s public key (PEM or Base64 DER). Default: the simulated Alipay+ key in --state-dir.
    #[arg(long)]
    pub alipay_public_key: Option<PathBuf>,
    /// The key version that public key is.
    #[arg(long, default_value_t = 1)]
    pub alipay_key_version: u32,
    /// The Alipay+ client id we accept.
    #[arg(long, default_value = "TEST_ALIPAYPLUS_CLIENT")]
    pub client_id: String,
    /// Our private key (PEM) for signing answers. Default: the development key in --state-dir.
    #[arg(long)]
    pub signing_key: Option<PathBuf>,
    /// The key binding tokens are derived under (hex, at least 32 bytes; `mpp_core::token_mac`).
    /// Default: the development key in --state-dir (`mpp/token_mac_key`, made on first start).
    #[arg(long)]
    pub token_mac_key_file: Option<PathBuf>,
    /// Our signing key's version (the keyVersion in our Signature header).
    #[arg(long, default_value_t = 1)]
    pub signing_key_version: u32,
    /// Seed file to load at start (see docs/seed.md). Default on the memory store: the demo wallet.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Use DynamoDB at this endpoint (DynamoDB Local or AWS) instead of the memory store;
    /// missing tables are created.
    #[arg(long)]
    pub dynamodb_endpoint: Option<String>,
    /// Table name prefix on DynamoDB.
    #[arg(long, default_value = "mpp-local")]
    pub table_prefix: String,
    /// Where development keys are kept.
    #[arg(long, default_value = ".mpp-dev")]
    pub state_dir: PathBuf,
    /// Path prefix of the Alipay+ routes.
    #[arg(long, default_value = mpp_core::operations::PATH_PREFIX)]
    pub path_prefix: String,
    /// Where notifyPayment goes for payments without `paymentNotifyUrl` (default: only payments
    /// that name a URL are notified).
    #[arg(long)]
    pub notify_url: Option<String>,
    /// A host notifyPayment (and any other outbound call) may go to; repeatable. Without any,
    /// only loopback hosts are allowed; once one is given, only the listed hosts (loopback only
    /// when listed). `*.domain` allows a domain and its subdomains.
    #[arg(long = "notify-allow-host", value_name = "HOST")]
    pub notify_allow_host: Vec<String>,
    /// Minutes after midnight (UTC+8) of the day after a payment until which it may be cancelled.
    #[arg(long, default_value_t = 30)]
    pub cancel_cutoff_minutes: i64,
    /// Account binding: the base URL `authUrl` points at (default: this server, `http://ADDR`).
    #[arg(long)]
    pub auth_page_base_url: Option<String>,
    /// Account binding: most merchants one account may be bound to at once.
    #[arg(long, default_value_t = mpp_core::bindings::BINDINGS_PER_ACCOUNT_DEFAULT)]
    pub bindings_per_account_max: u32,
    /// Where authNotify goes (Alipay+'s `/aps/api/v1/authorizations/authNotify`, or `mpp hub`'s);
    /// without it binding notifications stay in the outbox, undelivered.
    #[arg(long)]
    pub auth_notify_url: Option<String>,
    /// Also push every new authCode with authNotify `AUTHCODE_CREATED`.
    #[arg(long)]
    pub auth_notify_push_code: bool,
    /// Alipay+ (or `mpp hub`) base URL for the calls the MPP makes itself: consultUnbinding,
    /// when the wallet unbinds (`mpp bindings revoke`, served at POST /bindings/consultUnbinding).
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub alipay_api_url: String,
}

/// Every function's dependencies, built once.
struct App {
    prefix: String,
    edge: Edge,
    /// Every inbound function (and sendOTP's outbox, served at [`OUTBOX_PATH`]).
    inbound: mpp_inbound::Inbound,
    /// The ledger by clearing day, for the loopback-only `GET /dev/clearing`.
    clearing: Arc<dyn mpp_core::reconcile::ledger::ClearingLedger>,
    /// The wallet's unbinding (the consult-unbinding function's flow), at its internal route.
    unbinding: mpp_core::bindings::UnbindingDeps,
}

/// The development endpoint with every OTP message sent so far (JSON lines, oldest first).
/// `mpp serve` listens on loopback only, so only this machine reads it.
pub const OUTBOX_PATH: &str = "/dev/outbox";

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(CliError::io(path))
}

pub async fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    init_logs();
    let dev = DevKeys::ensure(&args.state_dir)?;
    let signing_key_path = args
        .signing_key
        .clone()
        .unwrap_or_else(|| dev.mpp_dir.join("private_key.pem"));
    let alipay_key_path = args
        .alipay_public_key
        .clone()
        .unwrap_or_else(|| dev.alipay_dir.join("public_key.pem"));
    let signer = LocalSigner::new(
        load_private_key(&read(&signing_key_path)?).map_err(other)?,
        args.signing_key_version,
    );
    let edge_signer: Arc<dyn mpp_core::signature::Signer> = Arc::new(signer);
    let token_key_path = match &args.token_mac_key_file {
        Some(p) => p.clone(),
        None => crate::devkeys::ensure_token_key(&args.state_dir)?,
    };
    let token_mac: Arc<dyn mpp_core::token_mac::TokenMac> = Arc::new(
        mpp_core::token_mac::LocalTokenMac::from_hex(&read(&token_key_path)?)
            .map_err(|e| other(format!("{}: {e}", token_key_path.display())))?,
    );
    let alipay_key = load_public_key(&read(&alipay_key_path)?).map_err(other)?;
    let verifier = VerifierConfig::new(
        args.client_id.clone(),
        args.alipay_key_version,
        alipay_key.clone(),
    );

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let clearing: Arc<dyn mpp_core::reconcile::ledger::ClearingLedger>;
    // authNotify's outbox feed and delivery state, when there is somewhere to send it.
    type AuthFeed = (
        tokio::sync::mpsc::UnboundedReceiver<mpp_core::bindings::AuthNotification>,
        Arc<dyn mpp_core::store::DeliveryStore>,
    );
    let mut auth_feed: Option<AuthFeed> = None;
    let (stores, store_name, feed) = match &args.dynamodb_endpoint {
        None => {
            let store = Arc::new(MemoryStore::new());
            let feed = store.subscribe();
            if args.auth_notify_url.is_some() {
                auth_feed = Some((
                    store.subscribe_auth_notify(),
                    Arc::new(mpp_core::bindings::AuthNotifyDeliveries(store.clone())),
                ));
            }
            clearing = store.clone();
            (Stores::of(store), "memory".to_string(), Some(feed))
        }
        Some(endpoint) => {
            let client = mpp_aws::dynamo::dynamo_client(Some(endpoint)).await;
            let store = mpp_aws::dynamo::DynamoStore::new(
                client,
                mpp_aws::dynamo::TableNames::with_prefix(&args.table_prefix),
            );
            store.create_tables().await.map_err(other)?;
            // DynamoDB Local: follow the streams here. On AWS the notify Lambdas do it.
            let local = ["://127.0.0.1", "://localhost", "://[::1]"]
                .iter()
                .any(|h| endpoint.contains(h));
            let feed = match local {
                true => Some(
                    crate::notifier::follow_local_stream(
                        endpoint,
                        &store.tables().payments,
                        crate::notifier::payment_image,
                    )
                    .await
                    .map_err(other)?,
                ),
                false => None,
            };
            if local && args.auth_notify_url.is_some() {
                let outbox = crate::notifier::follow_local_stream(
                    endpoint,
                    &store.tables().bindings,
                    mpp_aws::dynamo::auth_notification_from_image,
                )
                .await
                .map_err(other)?;
                auth_feed = Some((
                    outbox,
                    Arc::new(mpp_aws::dynamo::AuthNotifyDeliveries(store.clone())),
                ));
            }
            let store = Arc::new(store);
            clearing = store.clone();
            (
                Stores::of(store),
                format!("dynamodb {endpoint} (tables {}-*)", args.table_prefix),
                feed,
            )
        }
    };
    let seed_bytes = match &args.seed {
        Some(path) => Some(std::fs::read(path).map_err(CliError::io(path))?),
        None if args.dynamodb_endpoint.is_none() => Some(DEMO_SEED.to_vec()),
        None => None,
    };
    if let Some(bytes) = seed_bytes {
        let seed = Seed::parse(&bytes).map_err(other)?;
        let report = seed
            .apply(stores.admin.as_ref(), clock.now())
            .await
            .map_err(other)?;
        let logins = seed
            .apply_logins(stores.bindings.logins.as_ref())
            .await
            .map_err(other)?;
        println!(
            "seeded: {} accounts created, {} already there, {} tokens, {} payment codes, {logins} wallet logins",
            report.accounts_created, report.accounts_existing, report.tokens, report.payment_codes
        );
    }

    let destinations =
        mpp_core::outbound::Destinations::local(args.notify_allow_host.iter().map(String::as_str))
            .map_err(|e| other(format!("--notify-allow-host: {e}")))?;
    if let Some(url) = &args.notify_url {
        destinations
            .check(url)
            .map_err(|e| other(format!("--notify-url is not allowed: {e}")))?;
    }
    if let Some(url) = &args.auth_notify_url {
        destinations
            .check(url)
            .map_err(|e| other(format!("--auth-notify-url is not allowed: {e}")))?;
    }
    let notify_client = || {
        SignedClient::new(
            "",
            args.client_id.clone(),
            edge_signer.clone(),
            Some(alipay_key.clone()),
            crate::notifier::attempt_timeout(),
        )
        .map(|c| c.with_destinations(destinations.clone()))
        .map_err(other)
    };
    if let Some(feed) = feed {
        let config = crate::notifier::NotifierConfig {
            client: notify_client()?,
            deliveries: stores.deliveries.clone(),
            clock: clock.clone(),
            dead_letter_file: args.state_dir.join("notify-dead-letters.jsonl"),
            // notifyPayment bodies hold no token.
            token_mac: Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
        };
        let jobs = crate::notifier::payment_jobs(feed, args.notify_url.clone());
        tokio::spawn(crate::notifier::run(config, jobs));
    }
    if let (Some((outbox, deliveries)), Some(url)) = (auth_feed, &args.auth_notify_url) {
        let config = crate::notifier::NotifierConfig {
            client: notify_client()?,
            deliveries,
            clock: clock.clone(),
            dead_letter_file: args.state_dir.join("auth-notify-dead-letters.jsonl"),
            // Rebuilds TOKEN_CREATED / TOKEN_CANCELED bodies at send time (the same key the
            // tokens are derived with): the outbox and the dead-letter file hold no token.
            token_mac: token_mac.clone(),
        };
        let jobs = crate::notifier::auth_notify_jobs(outbox, url.clone());
        tokio::spawn(crate::notifier::run(config, jobs));
    }

    let policy = Arc::new(Policy::from_settings(|k| std::env::var(k).ok()).map_err(other)?);
    let edge = Edge {
        verifier: Arc::new(verifier),
        signer: edge_signer,
        clock: clock.clone(),
        client_id: args.client_id.clone(),
    };
    // Bound before the functions are built: the authorization page's URL names the address.
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| other(format!("{}: {e}", args.addr)))?;
    let addr = listener.local_addr().map_err(other)?;
    let page_base_url = args
        .auth_page_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if !mpp_core::bindings::is_web_url(&page_base_url) {
        return Err(other("--auth-page-base-url: not an http(s) URL"));
    }
    let wiring = Wiring {
        edge: edge.clone(),
        ports: stores.clone(),
        clock: clock.clone(),
        policy,
        cancel_cutoff: chrono::Duration::minutes(args.cancel_cutoff_minutes),
        bindings: mpp_core::bindings::BindingSettings {
            page_base_url,
            bindings_per_account_max: args.bindings_per_account_max,
            push_auth_code: args.auth_notify_push_code,
        },
        token_mac,
    };
    if !args.addr.ip().is_loopback() {
        // The outbox hands out live one-time passwords: never off this machine.
        return Err(other(format!(
            "--addr {}: mpp serve listens on loopback only (it serves {OUTBOX_PATH})",
            args.addr
        )));
    }
    let outbox = Arc::new(mpp_core::messaging::Outbox::printing());
    // consultUnbinding goes to Alipay+ (the hub), signed with our key, its answers verified
    // with Alipay+'s; mpp_client::consult_unbinding bounds the retries.
    let consult_client = mpp_client::SignedClient::new(
        &args.alipay_api_url,
        &args.client_id,
        edge.signer.clone(),
        Some(alipay_key.clone()),
        mpp_client::consult_unbinding::ATTEMPT_TIMEOUT,
    )
    .map_err(other)?;
    let unbinding = mpp_core::bindings::UnbindingDeps {
        store: wiring.ports.bindings.unbinding.clone(),
        consultant: Arc::new(mpp_client::consult_unbinding::AlipayUnbindingConsultant {
            client: consult_client,
        }),
        mac: wiring.token_mac.clone(),
        clock: wiring.clock.clone(),
    };
    let app = Arc::new(App {
        unbinding,
        inbound: mpp_inbound::Inbound::from_wiring(&wiring, outbox),
        prefix: args.path_prefix.trim_end_matches('/').to_string(),
        edge,
        clearing,
    });

    print_banner(
        &args,
        &dev,
        &signing_key_path,
        &alipay_key_path,
        addr,
        &store_name,
    );
    let router = axum::Router::new().fallback(route).with_state(app);
    // The peer address: the development routes answer loopback peers only.
    let router = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            println!("shutting down");
        })
        .await
        .map_err(other)?;
    Ok(ExitCode::SUCCESS)
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_writer(std::io::stderr)
        .try_init();
}

fn print_banner(
    args: &ServeArgs,
    dev: &DevKeys,
    signing: &Path,
    alipay: &Path,
    addr: SocketAddr,
    store: &str,
) {
    if dev.created {
        println!("created development keys in {}", args.state_dir.display());
    }
    println!("store: {store}");
    println!("accepted Alipay+ client id: {}", args.client_id);
    println!("our signing key: {}", signing.display());
    println!(
        "Alipay+ public key (keyVersion {}): {}",
        args.alipay_key_version,
        alipay.display()
    );
    println!(
        "try: cargo run -q -p mpp-cli --bin mpp -- call pay examples/pay.json --url http://{addr} --client-id {} --key {} --verify-key {}",
        args.client_id,
        dev.alipay_dir.join("private_key.pem").display(),
        dev.mpp_dir.join("public_key.pem").display()
    );
    println!("OTP messages (sendOTP): printed here and served at GET http://{addr}{OUTBOX_PATH}");
    // Last: tests and scripts wait for this line.
    println!("listening on http://{addr}");
}

/// Every request: read the body (bounded), build the Lambda request, call the function's own
/// handler for the path, and hand its response back.
async fn route(State(app): State<Arc<App>>, request: AxumRequest) -> AxumResponse {
    if request.uri().path() == OUTBOX_PATH && request.method() == axum::http::Method::GET {
        return AxumResponse::builder()
            .header("Content-Type", "application/x-ndjson; charset=UTF-8")
            .body(AxumBody::from(app.inbound.outbox.json_lines()))
            .unwrap_or_default();
    }
    if request.uri().path() == crate::dev_clearing::PATH && request.method() == http::Method::GET {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        return crate::dev_clearing::handle(app.clearing.as_ref(), peer, request.uri().query())
            .await;
    }
    if request.uri().path() == operations::CONSULT_UNBINDING.route {
        return consult_unbinding(&app, request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, READ_BODY_BYTES_MAX).await {
        Ok(b) => b.to_vec(),
        // Larger than we read: hand the handler a body it will refuse as too large.
        Err(_) => vec![b' '; MAX_BODY_BYTES + 1],
    };
    let request = lambda_http::Request::from_parts(parts, lambda_http::Body::Binary(bytes));
    // A request id of our own, as Lambda gives one, so every log line of a call can be found
    // (no deadline in it: the handler takes the operation's own budget).
    let mut context = lambda_http::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    let request = request.with_lambda_context(context);
    let path = request.uri().path().to_string();
    let route = path.strip_prefix(app.prefix.as_str()).unwrap_or("");
    // The operation table says which inbound operation a route is; each has its function's
    // own handler here. An inbound row without an arm would answer NO_INTERFACE_DEF:
    // `tests/tests/serve_e2e.rs` calls every inbound route of the table through `mpp serve`.
    let stage = app
        .prefix
        .strip_suffix(operations::PATH_PREFIX)
        .unwrap_or("");
    let name = operations::inbound_by_route(route)
        .or_else(|| operations::served_at(&path, stage))
        .or_else(|| operations::inbound_by_path(&path))
        .map(|o| o.name);
    let response = match name {
        Some(name) => app.inbound.handle(name, request).await,
        None => Err(request),
    };
    let response = match response {
        Ok(r) => r,
        Err(request) => mpp_aws::lambda::respond(
            no_interface(&app.edge, mpp_aws::lambda::inbound(&request)).await,
        ),
    };
    let (parts, body) = response.into_parts();
    AxumResponse::from_parts(
        parts,
        AxumBody::from(mpp_aws::lambda::body_bytes(&body).to_vec()),
    )
}

/// The wallet's unbinding at its internal route (the consult-unbinding function's flow; in AWS
/// IAM-authorised, here on loopback like every route of `mpp serve`).
async fn consult_unbinding(app: &App, request: AxumRequest) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, READ_BODY_BYTES_MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let answer = mpp_core::bindings::serve_internal(
        &app.unbinding,
        parts.method.as_str(),
        content_type,
        &bytes,
    )
    .await;
    AxumResponse::builder()
        .status(answer.status)
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(AxumBody::from(answer.body))
        .unwrap_or_default()
}
