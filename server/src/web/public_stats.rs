//! The public statistics as data: JSON, CSV and GeoJSON, the same suppressed table as the `/public`
//! page. Anyone may fetch them; they hold counts only.
use super::AppState;
use app::backend::Backend;
use app::model::{Level, PublicReport};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

fn report(state: &AppState) -> PublicReport {
    state.cockpit.public_report()
}

pub async fn json(State(state): State<AppState>) -> Response {
    axum::Json(report(&state)).into_response()
}

pub async fn csv(State(state): State<AppState>) -> Response {
    let r = report(&state);
    let mut out = String::from("level,code,name,parent,reported_30d,closed_30d,open,grids\n");
    for row in &r.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            row.level.as_str(),
            row.code,
            row.name.replace(',', " "),
            row.parent.as_deref().unwrap_or(""),
            row.reported_30d.text(),
            row.closed_30d.text(),
            row.open.text(),
            row.grids
        ));
    }
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
}

/// A region's outline as a GeoJSON MultiPolygon (each ring closed, as the format wants).
pub(super) fn geometry(region: &engine::tree::Region) -> serde_json::Value {
    let rings: Vec<Vec<Vec<[f64; 2]>>> = region
        .row
        .shape
        .iter()
        .map(|ring| {
            let mut r = ring.clone();
            r.extend(ring.first().copied());
            vec![r]
        })
        .collect();
    serde_json::json!({ "type": "MultiPolygon", "coordinates": rings })
}

/// Districts (real boundaries) and towns (schematic, marked so) with their published counts.
pub async fn geojson(State(state): State<AppState>) -> Response {
    let r = report(&state);
    let tree = state.cockpit.policy.tree();
    let features: Vec<serde_json::Value> = r
        .rows
        .iter()
        .filter(|row| matches!(row.level, Level::District | Level::Town))
        .filter_map(|row| {
            let idx = tree.find(&row.code)?;
            let region = tree.get(idx);
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": row.code, "name": row.name, "level": row.level.as_str(), "schematic": region.row.schematic,
                    "reported_30d": row.reported_30d, "closed_30d": row.closed_30d, "open": row.open,
                },
                "geometry": geometry(region),
            }))
        })
        .collect();
    let fc = serde_json::json!({ "type": "FeatureCollection", "as_of": r.as_of, "features": features });
    ([(header::CONTENT_TYPE, "application/geo+json")], fc.to_string()).into_response()
}
