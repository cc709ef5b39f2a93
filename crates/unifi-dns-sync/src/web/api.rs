//! The JSON API under `/api/v1/` (read endpoints; `POST /api/v1/sync` lives in the parent).

use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
