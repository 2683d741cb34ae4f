//! The catalogue of the codes inside an error: each problem an input or a form can have
//! ([`ProblemCode`], `extensions.problems[].code`, `FormProblem.code`, a response's
//! `rejected[].code`, a path's `violations[].code`) and each note on an item of a converted
//! Google form ([`NoteCode`]). Each code says what it means and where it occurs; the schema
//! exposes them as enums, the README lists them, and a code that is not here cannot be emitted:
//! a typo does not compile. The codes of whole errors (`extensions.code`) are in
//! [`crate::error::code`].

/// Declares a catalogue: an enum whose values are the codes, each with its meaning, exposed in
/// the schema under the same names.
macro_rules! catalogue {
    ($(#[$meta:meta])* $name:ident { $($(#[doc = $doc:literal])+ $variant:ident => $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, serde::Serialize, serde::Deserialize, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[doc = $doc])+ #[graphql(name = $code)] #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every code, in the catalogue's order.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// What it means and where it occurs.
            pub fn meaning(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($($doc, "\n"),+).trim_ascii(),)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

catalogue! {
    /// Why an input, an answer or a form is refused or cannot be published: the `code` of each
    /// problem.
    ProblemCode {
        /// A value is needed and missing. Inputs, form documents; a required question on the
        /// path without an answer (completing a response, a path's violations).
        Required => "REQUIRED",
        /// Text that is empty or only spaces where text is needed. Translations, answers.
        Blank => "BLANK",
        /// Something given twice that must be unique (a locale of a text, an answer's key, an
        /// option value, a section id, an item of a list).
        Duplicate => "DUPLICATE",
        /// More items than allowed (locales, answers, attributes, hidden fields, options…).
        TooMany => "TOO_MANY",
        /// Text shorter than the question's or input's minimum.
        TooShort => "TOO_SHORT",
        /// Text longer than the question's or input's maximum.
        TooLong => "TOO_LONG",
        /// A number or date outside the allowed range (an answer, a scale, a limit of a
        /// configuration).
        OutOfRange => "OUT_OF_RANGE",
        /// A minimum above its maximum (lengths, choices, a scale, a number's range).
        RangeInverted => "RANGE_INVERTED",
        /// A number answer with a fraction where the question takes whole numbers.
        NotInteger => "NOT_INTEGER",
        /// A number answer that is not a finite number.
        InvalidNumber => "INVALID_NUMBER",
        /// A date answer or input that is not a date (`YYYY-MM-DD`, Persian digits allowed).
        InvalidDate => "INVALID_DATE",
        /// An answer of the wrong type for its question (a text for a number, choices for a
        /// date…).
        InvalidAnswer => "INVALID_ANSWER",
        /// An email answer that is not an email address.
        InvalidEmail => "INVALID_EMAIL",
        /// A phone answer that is not a phone number.
        InvalidPhone => "INVALID_PHONE",
        /// A text answer that does not match the question's pattern.
        PatternMismatch => "PATTERN_MISMATCH",
        /// A pattern (in a question's configuration) that is not a valid regular expression.
        InvalidPattern => "INVALID_PATTERN",
        /// A chosen value that is not one of the question's options.
        InvalidOption => "INVALID_OPTION",
        /// Fewer choices than the question's minimum.
        TooFewChoices => "TOO_FEW_CHOICES",
        /// More choices than the question's maximum (or more than one for a single choice).
        TooManyChoices => "TOO_MANY_CHOICES",
        /// An "other" answer to a question that has no "other" option.
        OtherNotAllowed => "OTHER_NOT_ALLOWED",
        /// An answer to a question the path does not show: a single-shot submit refuses it.
        AnswerOffPath => "ANSWER_OFF_PATH",
        /// An answer (or a reference) to a key the form version does not have.
        UnknownQuestion => "UNKNOWN_QUESTION",
        /// An answer to a hidden field among the answers: send it in `hidden`.
        HiddenField => "HIDDEN_FIELD",
        /// A hidden value for a key the form does not declare as hidden.
        UnknownHiddenField => "UNKNOWN_HIDDEN_FIELD",
        /// A location sent to a form that does not collect locations.
        NotCollected => "NOT_COLLECTED",
        /// A channel the caller may not record (PHONE and IN_PERSON are staff's; public
        /// callers may not claim them).
        ChannelNotAllowed => "CHANNEL_NOT_ALLOWED",
        /// An attribute name missing from the organization's catalogue.
        UnknownAttribute => "UNKNOWN_ATTRIBUTE",
        /// An attribute value of the wrong type for the catalogue's declaration.
        InvalidAttribute => "INVALID_ATTRIBUTE",
        /// A retired attribute given a new value.
        AttributeRetired => "ATTRIBUTE_RETIRED",
        /// A locale that is not a language tag (`fa`, `en`, `fa-IR`).
        InvalidLocale => "INVALID_LOCALE",
        /// A text in a locale the form does not have.
        UnknownLocale => "UNKNOWN_LOCALE",
        /// A respondent-facing text without its translation in one of the form's locales
        /// (blocks publishing).
        TranslationMissing => "TRANSLATION_MISSING",
        /// A question key that is not 1–64 of a-z, 0-9 and `_`, starting with a letter.
        InvalidKey => "INVALID_KEY",
        /// A question key used twice in a form.
        DuplicateKey => "DUPLICATE_KEY",
        /// A key that belonged to another question in a published version: reusing it would
        /// merge their answers.
        KeyRetired => "KEY_RETIRED",
        /// A change of the key of a question that has been published.
        KeyFrozen => "KEY_FROZEN",
        /// A change of the kind of a question that has been published.
        KindFrozen => "KIND_FROZEN",
        /// A configuration of another kind than the question's (a `choice` one on a number…).
        ConfigMismatch => "CONFIG_MISMATCH",
        /// A setting that does not apply to the question's kind (options on a text question, a
        /// configuration on a kind that takes none).
        NotApplicable => "NOT_APPLICABLE",
        /// A choice question without options (blocks publishing).
        OptionsRequired => "OPTIONS_REQUIRED",
        /// A question marked as feeding a metric it cannot feed (NPS needs an NPS question…).
        MetricMismatch => "METRIC_MISMATCH",
        /// A second question marked as feeding the same metric.
        MetricTaken => "METRIC_TAKEN",
        /// A form without questions (blocks publishing).
        FormEmpty => "FORM_EMPTY",
        /// A section without questions (blocks publishing).
        SectionEmpty => "SECTION_EMPTY",
        /// A section or question that is not in the form's draft.
        NotInForm => "NOT_IN_FORM",
        /// An arrangement of the draft (`arrangeForm`) that leaves out some of its sections or
        /// questions: list every one.
        Incomplete => "INCOMPLETE",
        /// An address that is not an absolute `https://` (or `http://`) URL.
        InvalidUrl => "INVALID_URL",
        /// An embedding origin that is not `scheme://host[:port]`.
        InvalidOrigin => "INVALID_ORIGIN",
        /// A colour that is not `#rrggbb`.
        InvalidColor => "INVALID_COLOR",
        /// A condition that does not parse; the message gives the character offset.
        InvalidCondition => "INVALID_CONDITION",
        /// A condition that reads a question the form does not have.
        ConditionUnknownQuestion => "CONDITION_UNKNOWN_QUESTION",
        /// A condition that reads an attribute missing from the catalogue.
        ConditionUnknownAttribute => "CONDITION_UNKNOWN_ATTRIBUTE",
        /// A condition that reads a hidden field the form does not declare.
        ConditionUnknownHiddenField => "CONDITION_UNKNOWN_HIDDEN_FIELD",
        /// A form's condition that reads `response(field)`: such operands are for report
        /// filters (a respondent's path cannot depend on them).
        ConditionReportOnly => "CONDITION_REPORT_ONLY",
        /// A condition that compares with a value that is not an option of the question.
        ConditionUnknownOption => "CONDITION_UNKNOWN_OPTION",
        /// A condition that compares a question, attribute or hidden field with a value of
        /// another type.
        ConditionTypeMismatch => "CONDITION_TYPE_MISMATCH",
        /// A condition that compares with a value outside the question's scale or range.
        ConditionOutOfRange => "CONDITION_OUT_OF_RANGE",
        /// A BETWEEN whose low bound is above its high bound.
        ConditionReversedBetween => "CONDITION_REVERSED_BETWEEN",
        /// A condition that can never hold (or always holds).
        ConditionContradiction => "CONDITION_CONTRADICTION",
        /// A condition that reads a question shown after it (or on the same section's later
        /// place): its answer cannot be known yet.
        ConditionLaterQuestion => "CONDITION_LATER_QUESTION",
        /// A form document whose condition text and tree say different things.
        ConditionMismatch => "CONDITION_MISMATCH",
        /// Skip rules that can go round in a loop.
        SkipLoop => "SKIP_LOOP",
        /// A skip rule to a section the version does not have, or not after it.
        SkipTargetUnknown => "SKIP_TARGET_UNKNOWN",
        /// A section no path reaches.
        UnreachableSection => "UNREACHABLE_SECTION",
        /// A question no path shows.
        UnreachableQuestion => "UNREACHABLE_QUESTION",
        /// A form document that is not JSON.
        MalformedJson => "MALFORMED_JSON",
        /// A form document larger than allowed.
        DocumentTooLarge => "DOCUMENT_TOO_LARGE",
        /// A form document nested deeper than allowed.
        DocumentTooDeep => "DOCUMENT_TOO_DEEP",
        /// A form document of a format version this server does not read.
        UnsupportedFormatVersion => "UNSUPPORTED_FORMAT_VERSION",
        /// A field a form document does not have (the message lists the fields).
        UnknownField => "UNKNOWN_FIELD",
        /// A form document value of the wrong JSON type (a string for an object…).
        InvalidType => "INVALID_TYPE",
        /// A form document value that cannot be read as what its field holds.
        InvalidValue => "INVALID_VALUE",
        /// A question kind the server does not know.
        UnknownKind => "UNKNOWN_KIND",
        /// A section id (in a form document) that is not 1–64 of A-Z, a-z, 0-9, `_`, `-`.
        InvalidId => "INVALID_ID",
        /// A template key the library does not have.
        UnknownTemplate => "UNKNOWN_TEMPLATE",
        /// JSON that is not a Google Forms API form.
        NotAGoogleForm => "NOT_A_GOOGLE_FORM",
    }
}

catalogue! {
    /// What converting an item of a Google form changed or could not keep: the `code` of each
    /// note of `importGoogleForm`'s items.
    NoteCode {
        /// The item is not a Forms API item and was skipped.
        UnreadableItem => "UNREADABLE_ITEM",
        /// The item has a kind the converter does not know and was skipped.
        UnknownItem => "UNKNOWN_ITEM",
        /// A file upload question was skipped: files are not collected here.
        FileUploadNotSupported => "FILE_UPLOAD_NOT_SUPPORTED",
        /// An image item was skipped: images are not form items here.
        ImageNotSupported => "IMAGE_NOT_SUPPORTED",
        /// A video item was skipped: videos are not form items here.
        VideoNotSupported => "VIDEO_NOT_SUPPORTED",
        /// A text item (title and description only) was skipped.
        TextNotSupported => "TEXT_NOT_SUPPORTED",
        /// A scale the kinds here cannot hold was skipped.
        ScaleNotSupported => "SCALE_NOT_SUPPORTED",
        /// The question's image was not kept.
        ImageDropped => "IMAGE_DROPPED",
        /// An option's image was not kept.
        OptionImageDropped => "OPTION_IMAGE_DROPPED",
        /// Quiz grading was not kept.
        GradingDropped => "GRADING_DROPPED",
        /// Quiz points became option scores.
        GradingAsScores => "GRADING_AS_SCORES",
        /// Quiz feedback was not kept.
        FeedbackDropped => "FEEDBACK_DROPPED",
        /// A rating's icon (heart, thumb) became stars.
        IconChanged => "ICON_CHANGED",
        /// A linear scale became the nearest scale kind here.
        ScaleChanged => "SCALE_CHANGED",
        /// A date with a time asks for the date only.
        TimeDropped => "TIME_DROPPED",
        /// A date without a year asks for the year too.
        YearAdded => "YEAR_ADDED",
        /// A time question became a short text with an `HH:MM` pattern.
        TimeAsText => "TIME_AS_TEXT",
        /// A grid's row order became fixed (rows are questions here).
        RowOrderFixed => "ROW_ORDER_FIXED",
        /// A "go to section" that jumps backward or restarts the form was not kept: skips only
        /// go forward.
        JumpNotSupported => "JUMP_NOT_SUPPORTED",
    }
}

/// The catalogues as the README shows them: a table per catalogue, code and meaning
/// (`nazar codes` prints it; a test fails when the README's copy is stale).
pub fn markdown() -> String {
    let mut out = String::new();
    let mut table = |title: &str, rows: Vec<(&'static str, &'static str)>| {
        out.push_str(&format!(
            "{title}\n\n| code | meaning and where it occurs |\n| --- | --- |\n"
        ));
        for (code, meaning) in rows {
            let meaning: Vec<&str> = meaning.split_whitespace().collect();
            out.push_str(&format!("| `{code}` | {} |\n", meaning.join(" ")));
        }
        out.push('\n');
    };
    table(
        "**Problem codes** (`extensions.problems[].code`, `FormProblem.code`, `rejected[].code`, `violations[].code`; the `ProblemCode` enum):",
        ProblemCode::ALL.iter().map(|c| (c.as_str(), c.meaning())).collect(),
    );
    table(
        "**Conversion notes** (`importGoogleForm` items' `notes[].code`; the `NoteCode` enum):",
        NoteCode::ALL.iter().map(|c| (c.as_str(), c.meaning())).collect(),
    );
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use async_graphql::{EnumType, InputType};

    use super::*;

    /// The schema's names are the catalogue's codes, every code is different, and every one
    /// says what it means.
    fn coherent<T: EnumType + InputType + Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        code: fn(T) -> &'static str,
        meaning: fn(T) -> &'static str,
    ) {
        let items = T::items();
        assert_eq!(items.len(), all.len());
        for (item, value) in items.iter().zip(all) {
            assert_eq!(item.name, code(*value), "{value:?}");
            assert_eq!(item.value, *value);
            assert!(meaning(*value).len() > 20, "{value:?} says too little");
        }
        let mut codes: Vec<&str> = all.iter().map(|v| code(*v)).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "a code is listed twice");
    }

    #[test]
    fn catalogues_are_coherent() {
        coherent(ProblemCode::ALL, ProblemCode::as_str, ProblemCode::meaning);
        coherent(NoteCode::ALL, NoteCode::as_str, NoteCode::meaning);
    }
}
