//! One integration-test binary: each module specifies one area by running the real `payremind`
//! on real files in a scratch folder, with the clock pinned by `--now`.

#![allow(clippy::unwrap_used)]

mod support;

mod check;
mod config;
mod consent;
mod dates;
mod decisions;
mod deliverability;
mod dispatch;
mod example;
mod fuzz;
mod guard;
mod init;
mod input;
mod languages;
mod layouts;
mod ledger;
mod plan;
mod report;
mod scale;
mod send;
mod suppress;
mod templates;
