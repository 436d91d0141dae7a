//! Where the built static files are: `scripts/hash-assets.mjs` names them by content and writes
//! `assets.json` into the site; the server reads it at start and provides it to the page shell, so a
//! browser may keep every file for a year and a new build is fetched under a new name.
use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assets {
    /// Leptos's output name: the page loads `/pkg/{app}.js` and `/pkg/{app}.wasm`.
    pub app: String,
    pub css: String,
    pub echarts: String,
    /// The wall's own, smaller bundle (`/pkg/{wall}.js` and `.wasm`), when the build made one.
    #[serde(default)]
    pub wall: Option<String>,
}

impl Default for Assets {
    /// The unhashed names, for a site built without the manifest.
    fn default() -> Self {
        Assets { app: "cockpit".into(), css: "/pkg/cockpit.css".into(), echarts: "/assets/echarts.js".into(), wall: None }
    }
}

#[cfg(feature = "ssr")]
impl Assets {
    /// The manifest in `site_root`; the unhashed names when there is none; an error when it is unreadable
    /// or names a file the site lacks, because pages would then load without their code or style.
    pub fn load(site_root: &std::path::Path) -> Result<Assets, String> {
        let path = site_root.join("assets.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Assets::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let a: Assets = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut files = vec![format!("/pkg/{}.js", a.app), format!("/pkg/{}.wasm", a.app), a.css.clone(), a.echarts.clone()];
        if let Some(w) = &a.wall {
            files.extend([format!("/pkg/{w}.js"), format!("/pkg/{w}.wasm")]);
        }
        for f in files {
            let safe = f.starts_with('/') && !f.contains("..");
            if !safe || !site_root.join(&f[1..]).is_file() {
                return Err(format!("{}: names {f}, which the site does not have", path.display()));
            }
        }
        Ok(a)
    }

}

impl Assets {
    /// Pages that draw charts load ECharts; the others (public, login) do without it.
    pub fn needs_charts(path: &str) -> bool {
        ["/wall", "/desk"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")))
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_checked_against_the_site() {
        let dir = std::env::temp_dir().join(format!("cockpit-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        assert_eq!(Assets::load(&dir).unwrap(), Assets::default(), "no manifest: the plain names");
        let m = r#"{"app":"cockpit.ab12","css":"/pkg/cockpit.cd34.css","echarts":"/assets/echarts.ef56.js"}"#;
        std::fs::write(dir.join("assets.json"), m).unwrap();
        let err = Assets::load(&dir).unwrap_err();
        assert!(err.contains("cockpit.ab12.js"), "{err}");
        for f in ["pkg/cockpit.ab12.js", "pkg/cockpit.ab12.wasm", "pkg/cockpit.cd34.css", "assets/echarts.ef56.js"] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        assert_eq!(Assets::load(&dir).unwrap().css, "/pkg/cockpit.cd34.css");
        let with_wall = m.replace('}', r#","wall":"wall.9f9f"}"#);
        std::fs::write(dir.join("assets.json"), &with_wall).unwrap();
        assert!(Assets::load(&dir).is_err(), "the wall's bundle must be there when named");
        std::fs::write(dir.join("pkg/wall.9f9f.js"), "x").unwrap();
        std::fs::write(dir.join("pkg/wall.9f9f.wasm"), "x").unwrap();
        assert_eq!(Assets::load(&dir).unwrap().wall.as_deref(), Some("wall.9f9f"));
        std::fs::write(dir.join("assets.json"), r#"{"app":"x","css":"/../etc/passwd","echarts":"/a"}"#).unwrap();
        assert!(Assets::load(&dir).is_err(), "a path out of the site is refused");
        std::fs::write(dir.join("assets.json"), "{").unwrap();
        assert!(Assets::load(&dir).is_err(), "a broken manifest is an error, not a silent default");
        assert!(Assets::needs_charts("/wall") && Assets::needs_charts("/desk") && !Assets::needs_charts("/public") && !Assets::needs_charts("/wallpaper"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
