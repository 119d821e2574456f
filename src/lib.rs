//! Sextant: creator collaborations for cross-border sellers and their agency, run as one
//! measured loop — intake, matching, contract, tracking, rating, tiering, settlement.
#![forbid(unsafe_code)]

rust_i18n::i18n!("locales", fallback = "zh-CN");

pub mod admin;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod contracts;
pub mod creators;
pub mod db;
pub mod error;
pub mod evidence;
pub mod fulfilment;
pub mod kernel;
pub mod mail;
pub mod matching;
pub mod ratings;
pub mod review;
pub mod seed;
pub mod settlement;
pub mod state;
pub mod storage;
pub mod tenants;
pub mod tiers;
pub mod tracking;
pub mod web;
pub mod webhooks;
