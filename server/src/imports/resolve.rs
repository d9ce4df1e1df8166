//! What a row's words mean in this database: the type a category names, the state a
//! status label names, the location a path or name names (created on request). Loaded
//! once per import and kept in memory, so a big file costs few queries beyond its inserts.

use super::snipe::{category_type, category_variants, status_state};
use crate::db::asset_types::{AssetState, AssetType};
use crate::db::{self, DbResult};
use rusqlite::Connection;
use std::collections::HashMap;

/// A location a row cannot use, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceError {
    pub code: &'static str,
    pub message: String,
}

fn place_error(code: &'static str, message: String) -> PlaceError {
    PlaceError { code, message }
}

#[derive(Debug, Clone)]
struct Place {
    /// `None` until a place the file names is created.
    id: Option<i64>,
    kind: String,
    name: String,
    parent: Option<usize>,
    /// A new place a valid row uses (created, or in a dry run to be created).
    counted: bool,
}

/// Where a row's location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located {
    /// An existing location.
    At(i64),
    /// A place to create if the row is valid ([`Lookups::create`]).
    New(usize),
}

/// Every location by its path, and by each trailing part of its path.
#[derive(Debug, Default)]
struct Places {
    places: Vec<Place>,
    by_path: HashMap<String, usize>,
    by_suffix: HashMap<String, Vec<usize>>,
}

/// Lower-case path segments joined with `/`, the key places are found by.
fn key<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| s.as_ref().to_lowercase())
        .collect::<Vec<_>>()
        .join("/")
}

impl Places {
    fn add<S: AsRef<str>>(&mut self, segments: &[S], place: Place) -> usize {
        let i = self.places.len();
        self.places.push(place);
        self.by_path.insert(key(segments), i);
        for start in 1..segments.len() {
            self.by_suffix
                .entry(key(&segments[start..]))
                .or_default()
                .push(i);
        }
        i
    }

    /// The one place `segments` names: its whole path, else a unique trailing part.
    fn find(&self, segments: &[&str]) -> Result<Option<usize>, usize> {
        let k = key(segments);
        if let Some(&i) = self.by_path.get(&k) {
            return Ok(Some(i));
        }
        match self.by_suffix.get(&k).map(Vec::as_slice) {
            Some([i]) => Ok(Some(*i)),
            Some(many) if many.len() > 1 => Err(many.len()),
            _ => Ok(None),
        }
    }
}

/// The types, states and locations an import refers to.
pub struct Lookups {
    pub types: Vec<AssetType>,
    states: Vec<AssetState>,
    places: Places,
    type_cache: HashMap<String, Option<String>>,
    /// Locations created (or, in a dry run, to be created) so far.
    pub places_created: usize,
}

impl Lookups {
    pub fn load(c: &Connection) -> DbResult<Lookups> {
        let mut places = Places::default();
        for l in db::locations::list(c, db::locations::MAX_LOCATIONS)? {
            let segments: Vec<&str> = l.path.split(" / ").collect();
            places.add(
                &segments,
                Place {
                    id: Some(l.id),
                    kind: l.kind.clone(),
                    name: l.name.clone(),
                    parent: None,
                    counted: false,
                },
            );
        }
        Ok(Lookups {
            types: db::asset_types::list(c)?,
            states: db::asset_types::states(c)?,
            places,
            type_cache: HashMap::new(),
            places_created: 0,
        })
    }

    /// A type by key or (case-insensitive) name, as `POST /api/v1/assets` finds it.
    pub fn type_named(&self, s: &str) -> Option<&AssetType> {
        let s = s.trim();
        self.types
            .iter()
            .find(|t| t.key == s)
            .or_else(|| self.types.iter().find(|t| t.name.eq_ignore_ascii_case(s)))
    }

    /// The key of the type `value` names: a type's key or name, a plural of one, or a
    /// Snipe-IT category we know ("Laptops" -> computer). `None` when nothing matches.
    pub fn type_key(&mut self, value: &str) -> Option<String> {
        if let Some(found) = self.type_cache.get(value) {
            return found.clone();
        }
        let found = self
            .type_named(value)
            .or_else(|| {
                category_variants(value)
                    .iter()
                    .find_map(|v| self.type_named(v))
            })
            .or_else(|| category_type(value).and_then(|k| self.type_named(k)))
            .map(|t| t.key.clone());
        self.type_cache.insert(value.to_owned(), found.clone());
        found
    }

    /// The state name to give the asset: the state itself, or the one a Snipe-IT status
    /// label means; otherwise `value` as it is (and the asset check refuses it).
    pub fn state_name(&self, value: &str) -> String {
        let v = value.trim();
        if self.states.iter().any(|s| s.name.eq_ignore_ascii_case(v)) {
            return v.to_owned();
        }
        match status_state(v) {
            Some(s) if self.states.iter().any(|st| st.name.eq_ignore_ascii_case(s)) => s.into(),
            _ => v.to_owned(),
        }
    }

    /// The location `value` names ("HQ / Building A / Room 201", "Room 201"): its whole
    /// path, or a trailing part of exactly one location's path. With `create`, missing
    /// places are planned below the deepest part that exists (a site first, then
    /// building, floor, room) and made by [`Lookups::create`] once a row using them is
    /// valid. `Ok(None)`: `value` is blank.
    pub fn location(&mut self, value: &str, create: bool) -> Result<Option<Located>, PlaceError> {
        let segments: Vec<&str> = value
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if segments.is_empty() {
            return Ok(None);
        }
        let ambiguous = |n: usize| {
            place_error(
                "ambiguous_location",
                format!(
                    "{n} locations end in {value:?}; give more of the path, like \"HQ / Building A / Room 201\""
                ),
            )
        };
        let at = |lk: &Lookups, i: usize| match lk.places.places[i].id {
            Some(id) => Located::At(id),
            None => Located::New(i),
        };
        match self.places.find(&segments) {
            Ok(Some(i)) => return Ok(Some(at(self, i))),
            Err(n) => return Err(ambiguous(n)),
            Ok(None) => {}
        }
        if !create {
            return Err(place_error(
                "unknown_location",
                format!(
                    "there is no location {value:?}; create it first, or import with create_locations"
                ),
            ));
        }
        // The deepest leading part that exists is the parent of what is planned.
        let mut parent: Option<usize> = None;
        let mut made_from = 0;
        for n in (1..segments.len()).rev() {
            match self.places.find(&segments[..n]) {
                Ok(Some(i)) => {
                    parent = Some(i);
                    made_from = n;
                    break;
                }
                Err(count) => return Err(ambiguous(count)),
                Ok(None) => {}
            }
        }
        let mut path: Vec<String> = match parent {
            Some(i) => self.path_of(i),
            None => Vec::new(),
        };
        for name in &segments[made_from..] {
            if name.chars().count() > 100 {
                return Err(place_error(
                    "invalid_location",
                    format!("{name:?}: a location name is at most 100 characters"),
                ));
            }
            let kind = match parent {
                None => Some("site"),
                Some(p) => db::locations::child_kind(&self.places.places[p].kind),
            };
            let Some(kind) = kind else {
                return Err(place_error(
                    "invalid_location",
                    format!(
                        "{value:?} goes below a room; places are site / building / floor / room"
                    ),
                ));
            };
            path.push((*name).to_owned());
            parent = Some(self.places.add(
                &path,
                Place {
                    id: None,
                    kind: kind.to_owned(),
                    name: (*name).to_owned(),
                    parent,
                    counted: false,
                },
            ));
        }
        Ok(parent.map(|i| at(self, i)))
    }

    /// Makes planned place `i` and the planned places above it, in the write
    /// transaction `c`; in a dry run (`c` is `None`) only counts them. Returns its id.
    pub fn create(&mut self, i: usize, c: Option<&Connection>, now: i64) -> DbResult<Option<i64>> {
        if let Some(id) = self.places.places[i].id {
            return Ok(Some(id));
        }
        let parent = match self.places.places[i].parent {
            Some(p) => self.create(p, c, now)?,
            None => None,
        };
        let place = &self.places.places[i];
        let id = match c {
            Some(c) => {
                let tz = (place.kind == "site").then_some("UTC");
                Some(db::locations::insert(
                    c,
                    parent,
                    &place.kind,
                    &place.name,
                    tz,
                    "",
                    now,
                )?)
            }
            None => None,
        };
        let place = &mut self.places.places[i];
        place.id = id;
        if !place.counted {
            place.counted = true;
            self.places_created += 1;
        }
        Ok(id)
    }

    /// The path segments of place `i` (only needed when creating below it).
    fn path_of(&self, i: usize) -> Vec<String> {
        self.places
            .by_path
            .iter()
            .find(|(_, j)| **j == i)
            .map(|(k, _)| k.split('/').map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: i64) -> Place {
        Place {
            id: Some(id),
            kind: "room".into(),
            name: String::new(),
            parent: None,
            counted: false,
        }
    }

    #[test]
    fn places_are_found_by_path_or_a_unique_ending() {
        let mut p = Places::default();
        p.add(&["HQ"], place(1));
        p.add(&["HQ", "Building A", "Room 1"], place(2));
        p.add(&["Annex", "Room 1"], place(3));
        p.add(&["Annex", "Room 2"], place(4));
        assert_eq!(p.find(&["hq", "building a", "room 1"]), Ok(Some(1)));
        assert_eq!(p.find(&["Building A", "Room 1"]), Ok(Some(1)));
        assert_eq!(p.find(&["Room 2"]), Ok(Some(3)));
        assert_eq!(p.find(&["Room 1"]), Err(2), "two rooms are called that");
        assert_eq!(p.find(&["HQ"]), Ok(Some(0)));
        assert_eq!(p.find(&["Room 3"]), Ok(None));
        assert_eq!(
            p.find(&["HQ", "Room 1"]),
            Ok(None),
            "not a path, not an ending"
        );
    }
}
