-- A wall device's playlist (JSON, `app::model::Playlist`), set by an administrator; NULL: none.
ALTER TABLE devices ADD COLUMN playlist TEXT;
