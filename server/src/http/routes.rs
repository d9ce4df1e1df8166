//! A router that remembers the paths it serves. The OpenAPI document and the
//! authorization matrix are checked against this list, so a route cannot be added
//! without them noticing.

use super::AppState;
use axum::Router;
use axum::routing::MethodRouter;

/// Routes of the application, built up like an axum [`Router`].
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `path` with `methods` (as [`Router::route`]).
    pub fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Routes {
        self.router = self.router.route(path, methods);
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
        self
    }

    /// Adds the routes of `other` (as [`Router::merge`]).
    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        for path in other.paths {
            if !self.paths.contains(&path) {
                self.paths.push(path);
            }
        }
        self
    }

    /// Every path served, in the order first added.
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
