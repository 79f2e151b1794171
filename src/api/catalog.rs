//! The shape shared by the app's simple catalogs (quick replies, satisfaction
//! configurations, channels, extensions): items by id, each saved whole and deleted by one
//! event, read and written inside the caller's app under a module. Handlers keep their own
//! signatures (the OpenAPI document is made from them) and call these for the work.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use crate::domain::directory::{AppDirectory, Module};
use crate::domain::event::Event;
use crate::domain::ids::StreamId;

use super::ApiState;
use super::auth::Principal;
use super::desk::WriteTurn;
use super::error::ApiError;

/// A catalog of the app directory.
pub trait Catalog {
    /// The items' id.
    type Id: Copy + Ord + Display;
    /// An item.
    type Item: Clone;
    /// The module that edits it.
    const MODULE: Module;
    /// Whether reading needs the module too (otherwise any signed-in account reads it: the
    /// workstation needs quick replies and extensions).
    const READ_NEEDS_MODULE: bool;
    /// The id from a path parameter or the id counter.
    fn id(raw: u64) -> Self::Id;
    /// The items of an app.
    fn items(dir: &AppDirectory) -> &BTreeMap<Self::Id, Self::Item>;
    /// The event that saves an item whole.
    fn saved(item: Self::Item) -> Event;
    /// The event that deletes one.
    fn deleted(id: Self::Id) -> Event;
    /// Refuses deleting an item something still uses.
    fn check_delete(_dir: &AppDirectory, _id: Self::Id) -> Result<(), ApiError> {
        Ok(())
    }
}

/// The app's directory, after checking the caller may read the catalog.
pub fn readable<C: Catalog>(
    state: &ApiState,
    who: &Principal,
) -> Result<Arc<AppDirectory>, ApiError> {
    let dir = state.desk.app(who.app)?;
    if C::READ_NEEDS_MODULE {
        who.scope(&dir, C::MODULE)?;
    }
    Ok(dir)
}

/// Every item, by id.
pub fn list<C: Catalog>(state: &ApiState, who: &Principal) -> Result<Vec<C::Item>, ApiError> {
    let dir = readable::<C>(state, who)?;
    Ok(C::items(&dir).values().cloned().collect())
}

/// One item.
pub fn get<C: Catalog>(state: &ApiState, who: &Principal, raw: u64) -> Result<C::Item, ApiError> {
    let dir = readable::<C>(state, who)?;
    let id = C::id(raw);
    C::items(&dir)
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(id.to_string()))
}

/// Creates an item `build` makes (and checks) with a fresh id.
pub async fn create<C: Catalog>(
    state: &ApiState,
    who: &Principal,
    build: impl FnOnce(&AppDirectory, C::Id) -> Result<C::Item, ApiError>,
) -> Result<C::Item, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, C::MODULE)?;
    let item = build(&dir, C::id(state.desk.next_id()))?;
    save::<C>(state, who, &turn, item).await
}

/// Replaces item `raw` with what `build` makes of it.
pub async fn update<C: Catalog>(
    state: &ApiState,
    who: &Principal,
    raw: u64,
    build: impl FnOnce(&AppDirectory, C::Id, &C::Item) -> Result<C::Item, ApiError>,
) -> Result<C::Item, ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, C::MODULE)?;
    let id = C::id(raw);
    let old = C::items(&dir)
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(id.to_string()))?;
    let item = build(&dir, id, old)?;
    save::<C>(state, who, &turn, item).await
}

/// Writes an item whole, under the turn.
async fn save<C: Catalog>(
    state: &ApiState,
    who: &Principal,
    turn: &WriteTurn<'_>,
    item: C::Item,
) -> Result<C::Item, ApiError> {
    let event = C::saved(item.clone());
    state
        .desk
        .append(turn, who.app, vec![(StreamId::app(who.app), event)])
        .await?;
    Ok(item)
}

/// Deletes item `raw`.
pub async fn delete<C: Catalog>(
    state: &ApiState,
    who: &Principal,
    raw: u64,
) -> Result<(), ApiError> {
    let turn = state.desk.turn().await;
    let dir = state.desk.app(who.app)?;
    who.scope(&dir, C::MODULE)?;
    let id = C::id(raw);
    if !C::items(&dir).contains_key(&id) {
        return Err(ApiError::NotFound(id.to_string()));
    }
    C::check_delete(&dir, id)?;
    state
        .desk
        .append(
            &turn,
            who.app,
            vec![(StreamId::app(who.app), C::deleted(id))],
        )
        .await
}
