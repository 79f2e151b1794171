//! `helpline serve`: replay the log, start the engine, serve the management API beside the
//! health and readiness probes, print the first administrator once on a fresh instance,
//! and stop cleanly on SIGINT or SIGTERM (engine drained, log synced).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use helpline::api::{self, ApiConfig, ApiState};
use helpline::clock::{Clock, stopwatch};
use helpline::engine::Engine;
use helpline::log::{Durability, EventLog, LogOptions};

/// Reads the operator's configuration file; every error names the key.
fn load_config(path: Option<&Path>) -> anyhow::Result<ApiConfig> {
    let Some(path) = path else {
        return Ok(ApiConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let config: ApiConfig =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(config)
}

/// Runs the desk until a shutdown signal.
pub async fn serve(
    data: &Path,
    allow_shared_data_dir: bool,
    listen: SocketAddr,
    durability: Durability,
    stream_index: bool,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    crate::check_private_dir(data, allow_shared_data_dir)?;
    // Installed first, so the log's metrics from replay on are recorded.
    helpline::stats::export::recorder();
    let log = Arc::new(crate::open_log(
        data,
        LogOptions {
            durability,
            stream_index,
        },
    )?);
    let watch = stopwatch();
    let (mut world, events) = crate::fold(log.as_ref(), None)?;
    let last_seq = world.last_seq;
    let hub = helpline::im::hub::Hub::from_world(&mut world);
    let directory = std::mem::take(&mut world.directory);
    let engine = Engine::start_observed(log.clone(), Clock::system(), world, hub.observers())
        .await
        .context("cannot start the engine")?;
    let engine = Arc::new(engine);
    let replay_ms = watch.elapsed().as_millis() as u64;
    metrics::gauge!(helpline::stats::names::REPLAY.name).set(replay_ms as f64 / 1_000.0);
    tracing::info!(events, replay_ms, last_seq, "replayed the log");
    let state = ApiState::new(
        engine.clone(),
        directory,
        hub,
        Clock::system(),
        config,
        format!("http://{listen}"),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    state
        .hub
        .open_attachments(&state, data)
        .await
        .context("cannot open the attachments' folder")?;
    // Folds the log again and indexes transcripts in the background; requests wait for it.
    state
        .records
        .start(engine.shared().log.clone(), Some(data))
        .context("cannot start the service records")?;
    let admin_password = std::env::var("HELPLINE_ADMIN_PASSWORD").ok();
    if let Some(first) = api::bootstrap(&state, admin_password)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first administrator: {e}"))?
    {
        // Printed once, on stdout, for the operator: the log holds only its hash.
        match &first.password {
            Some(password) => println!(
                "first start: administrator of {} is {} with password {password} \
                 (shown once; it must be changed at first sign-in)",
                first.app, first.email
            ),
            None => println!(
                "first start: administrator of {} is {} with the password from HELPLINE_ADMIN_PASSWORD",
                first.app, first.email
            ),
        }
    }

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    if !listen.ip().is_loopback() {
        tracing::warn!(%listen, "listening beyond loopback: anyone who can reach it can call it");
    }
    tracing::info!(%listen, data = %data.display(), ?durability, "serving");
    let probes = api::probes::router(engine.shared().clone(), replay_ms);
    let router = probes.merge(api::router(state.clone()));
    let limits = state.config.server.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let metrics_server = match state.config.metrics.listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} (metrics.listen)"))?;
            tracing::info!(%address, "serving /metrics");
            let router = api::metrics_router(state.clone());
            let (limits, stop) = (limits.clone(), stop.clone());
            Some(tokio::spawn(async move {
                api::connections::serve(listener, router, &limits, stop.cancelled_owned()).await;
            }))
        }
        None => None,
    };
    let stopping = stop.clone();
    api::connections::serve(listener, router, &limits, async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await;
    stop.cancel();
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }

    state.records.stop().await;
    tracing::info!("shutting down: draining the engine");
    engine.shutdown().await.context("engine shutdown failed")?;
    let durable = log.sync().context("cannot sync the event log")?;
    tracing::info!(durable_seq = durable, "stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
