//! The question kinds of the catalogue and what each implies.

/// What a question asks for and how its answer is stored.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    /// One line of text.
    ShortText,
    /// Several lines of text.
    LongText,
    /// One option out of several, shown as a list.
    SingleChoice,
    /// Any number of options.
    MultipleChoice,
    /// One option out of several, shown as a drop-down.
    Dropdown,
    /// Yes or no.
    YesNo,
    /// Stars, from 1 to the configured maximum.
    Rating,
    /// A scale of labelled points (e.g. strongly disagree … strongly agree), given as options.
    Likert,
    /// Net Promoter Score: 0–10.
    Nps,
    /// Customer satisfaction: 1–5.
    Csat,
    /// Customer effort: 1–7, 7 = very easy.
    Ces,
    /// A number, optionally within a range.
    Number,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A calendar date.
    Date,
    /// A value the link or app supplies (e.g. an order id), never shown to the respondent.
    Hidden,
}

/// A standard customer-experience metric a question can feed.
#[derive(
    async_graphql::Enum, serde::Serialize, serde::Deserialize, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Metric {
    /// Net Promoter Score (0–10 question).
    Nps,
    /// Customer satisfaction (1–5 question).
    Csat,
    /// Customer effort score (1–7 question).
    Ces,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 16] = [
        QuestionKind::ShortText,
        QuestionKind::LongText,
        QuestionKind::SingleChoice,
        QuestionKind::MultipleChoice,
        QuestionKind::Dropdown,
        QuestionKind::YesNo,
        QuestionKind::Rating,
        QuestionKind::Likert,
        QuestionKind::Nps,
        QuestionKind::Csat,
        QuestionKind::Ces,
        QuestionKind::Number,
        QuestionKind::Email,
        QuestionKind::Phone,
        QuestionKind::Date,
        QuestionKind::Hidden,
    ];

    /// The stored name, e.g. `SINGLE_CHOICE`.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::ShortText => "SHORT_TEXT",
            QuestionKind::LongText => "LONG_TEXT",
            QuestionKind::SingleChoice => "SINGLE_CHOICE",
            QuestionKind::MultipleChoice => "MULTIPLE_CHOICE",
            QuestionKind::Dropdown => "DROPDOWN",
            QuestionKind::YesNo => "YES_NO",
            QuestionKind::Rating => "RATING",
            QuestionKind::Likert => "LIKERT",
            QuestionKind::Nps => "NPS",
            QuestionKind::Csat => "CSAT",
            QuestionKind::Ces => "CES",
            QuestionKind::Number => "NUMBER",
            QuestionKind::Email => "EMAIL",
            QuestionKind::Phone => "PHONE",
            QuestionKind::Date => "DATE",
            QuestionKind::Hidden => "HIDDEN",
        }
    }

    pub fn parse(value: &str) -> Option<QuestionKind> {
        QuestionKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Whether answers pick from the question's options (which it then must have).
    pub fn has_options(self) -> bool {
        matches!(
            self,
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::Dropdown | QuestionKind::Likert
        )
    }

    /// Whether answers are free text that reports list (short and long texts).
    pub fn is_open_text(self) -> bool {
        matches!(self, QuestionKind::ShortText | QuestionKind::LongText)
    }

    /// The metric the kind implies, if any.
    pub fn implied_metric(self) -> Option<Metric> {
        match self {
            QuestionKind::Nps => Some(Metric::Nps),
            QuestionKind::Csat => Some(Metric::Csat),
            QuestionKind::Ces => Some(Metric::Ces),
            _ => None,
        }
    }

    /// The fixed scale of the metric kinds, inclusive.
    pub fn fixed_scale(self) -> Option<(i32, i32)> {
        match self {
            QuestionKind::Nps => Some((0, 10)),
            QuestionKind::Csat => Some((1, 5)),
            QuestionKind::Ces => Some((1, 7)),
            _ => None,
        }
    }

    /// A readable stem for generated keys.
    pub fn key_stem(self) -> &'static str {
        match self {
            QuestionKind::Nps => "nps",
            QuestionKind::Csat => "csat",
            QuestionKind::Ces => "ces",
            QuestionKind::Email => "email",
            QuestionKind::Phone => "phone",
            QuestionKind::Date => "date",
            QuestionKind::Hidden => "hidden",
            QuestionKind::Rating => "rating",
            QuestionKind::Number => "number",
            _ => "q",
        }
    }
}

impl Metric {
    /// The stored name, e.g. `NPS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Nps => "NPS",
            Metric::Csat => "CSAT",
            Metric::Ces => "CES",
        }
    }

    pub fn parse(value: &str) -> Option<Metric> {
        [Metric::Nps, Metric::Csat, Metric::Ces]
            .into_iter()
            .find(|m| m.as_str() == value)
    }

    /// The question kind whose scale the metric's definition needs.
    pub fn kind(self) -> QuestionKind {
        match self {
            Metric::Nps => QuestionKind::Nps,
            Metric::Csat => QuestionKind::Csat,
            Metric::Ces => QuestionKind::Ces,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_metrics_match_their_scales() {
        for kind in QuestionKind::ALL {
            assert_eq!(QuestionKind::parse(kind.as_str()), Some(kind));
            if let Some(metric) = kind.implied_metric() {
                assert_eq!(metric.kind(), kind);
                assert!(kind.fixed_scale().is_some());
            }
        }
        assert_eq!(QuestionKind::Nps.fixed_scale(), Some((0, 10)));
        assert_eq!(QuestionKind::Csat.fixed_scale(), Some((1, 5)));
        assert_eq!(QuestionKind::Ces.fixed_scale(), Some((1, 7)));
        assert!(QuestionKind::Likert.has_options() && !QuestionKind::Rating.has_options());
    }
}
