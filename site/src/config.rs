//! The page's runtime configuration: `config.json` beside `index.html`. The file's one
//! definition (keys, checks) is the `site-config` crate, which the local stack and
//! `cargo xtask deploy` write it with.

pub use site_config::{CONFIG_PATH, ConfigError, SiteConfig};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_json_is_valid() {
        let shipped = include_str!("../config.json");
        let config = SiteConfig::parse(shipped).unwrap();
        assert_eq!(config.api_url, "http://127.0.0.1:4101/prod");
        assert!(config.local_sign_in_url.is_some());
    }
}
