//! Conditions (branching logic), pure and without I/O: the expression language and its
//! canonical text ([`expr`]) and its evaluation against a respondent's facts ([`eval`]).
//! Forms, submission and report filters build on it.
pub mod eval;
pub mod expr;
