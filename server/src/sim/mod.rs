//! The city's external systems, simulated: each module plays one system's side of a real protocol
//! (an Open311 server, a REST API, a webhook sender, MQTT and NATS publishers, CSV/XLSX drops, a
//! PostgreSQL table). The `cockpit-sim` binary and the feed tests use them.
pub mod city;
pub mod court;
pub mod files;
pub mod mqtt;
pub mod nats;
pub mod open311;
pub mod pg;
pub mod rest;
pub mod webhook;
