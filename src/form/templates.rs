//! The template library: ready, publishable forms in fa and en, kept as form documents in the
//! repository's `templates/` folder (data, not code) and built into the server.
use std::sync::OnceLock;

use super::{
    Problem,
    document::{self, Imported},
    kind::Metric,
    model::Text,
};

/// A template: its key and its document.
pub struct Template {
    /// Stable key, e.g. `csat`.
    pub key: &'static str,
    /// The form document.
    pub document: &'static str,
}

macro_rules! template {
    ($key:literal) => {
        Template {
            key: $key,
            document: include_str!(concat!("../../templates/", $key, ".json")),
        }
    };
}

/// Every template, in the order they are listed.
pub const TEMPLATES: &[Template] = &[
    template!("nps"),
    template!("csat"),
    template!("ces"),
    template!("retention"),
    template!("churn"),
    template!("conversion"),
    template!("website"),
    template!("onboarding"),
    template!("success_story"),
];

/// What a list of templates shows of each.
#[derive(Debug, Clone)]
pub struct Summary {
    pub key: &'static str,
    pub title: Text,
    pub description: Text,
    pub default_locale: String,
    pub locales: Vec<String>,
    pub touchpoint: Option<String>,
    /// The metrics its questions feed.
    pub metrics: Vec<Metric>,
    pub sections: usize,
    pub questions: usize,
    pub document: &'static str,
}

impl Template {
    /// The template read as a new form (new identities every time).
    pub fn read(&self) -> Result<Imported, Vec<Problem>> {
        document::import(self.document, &Default::default())
    }
}

/// The template with `key`.
pub fn find(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// Every template's summary, read once.
pub fn summaries() -> &'static [Summary] {
    static SUMMARIES: OnceLock<Vec<Summary>> = OnceLock::new();
    SUMMARIES.get_or_init(|| {
        TEMPLATES
            .iter()
            .filter_map(|template| match template.read() {
                Ok(imported) => Some(Summary {
                    key: template.key,
                    metrics: imported.def.metric_questions().into_iter().map(|(m, _)| m).collect(),
                    sections: imported.def.sections.len(),
                    questions: imported.def.question_count(),
                    title: imported.def.title,
                    description: imported.def.description,
                    default_locale: imported.def.default_locale,
                    locales: imported.def.locales,
                    touchpoint: imported.touchpoint,
                    document: template.document,
                }),
                Err(problems) => {
                    tracing::error!(template = template.key, ?problems, "a built-in template does not read");
                    None
                }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::model::check_publishable;

    #[test]
    fn every_template_reads_and_is_publishable_in_fa_and_en() {
        assert_eq!(summaries().len(), TEMPLATES.len());
        for template in TEMPLATES {
            let imported = template.read().unwrap_or_else(|p| panic!("{}: {p:#?}", template.key));
            assert_eq!(imported.def.locales, ["fa", "en"], "{}", template.key);
            let problems = check_publishable(&imported.def, &Default::default());
            assert!(problems.is_empty(), "{}: {problems:#?}", template.key);
            assert!(imported.touchpoint.is_some(), "{}", template.key);
            assert!(!imported.def.description.is_empty(), "{}", template.key);
        }
    }
}
