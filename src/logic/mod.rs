//! Conditions (branching logic), pure and without I/O: the expression language and its
//! canonical text ([`expr`]), its evaluation against a respondent's facts ([`eval`]), the path
//! through a form version ([`path`]) and the static checks of a version's conditions
//! ([`check`]). Forms, submission and report filters build on it.
pub mod check;
pub mod eval;
pub mod expr;
pub mod path;
