//! Response maps in the order the selection asked for them (the spec's SHOULD, and what
//! clients that compare answers or show them raw expect). The engine resolves a query's fields
//! concurrently and collects them as they finish, so its order is the order they happened to
//! complete in; this puts every object of an answer back in the order of its selection set,
//! fragments flattened where they are spread. Pure.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Value,
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

/// Reorders `data`, the answer to the operation `operation_name` of `document`.
pub fn in_request_order(document: &ExecutableDocument, operation_name: Option<&str>, data: &mut Value) {
    let operation = document
        .operations
        .iter()
        .find(|(name, _)| match operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        })
        .map(|(_, op)| op);
    if let Some(operation) = operation {
        order(data, &[&operation.node.selection_set.node], &document.fragments);
    }
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Each response key in order of first appearance, with the selection sets below it.
fn plan<'a>(sets: &[&'a SelectionSet], fragments: &'a Fragments) -> Vec<(&'a Name, Vec<&'a SelectionSet>)> {
    let mut keys: Vec<(&Name, Vec<&SelectionSet>)> = Vec::new();
    let mut spread: Vec<&Name> = Vec::new();
    for set in sets {
        collect(set, fragments, &mut keys, &mut spread);
    }
    keys
}

fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    keys: &mut Vec<(&'a Name, Vec<&'a SelectionSet>)>,
    spread: &mut Vec<&'a Name>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let below = &field.node.selection_set.node;
                match keys.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sets)) => sets.push(below),
                    None => keys.push((key, vec![below])),
                }
            }
            Selection::InlineFragment(inline) => collect(&inline.node.selection_set.node, fragments, keys, spread),
            Selection::FragmentSpread(fragment) => {
                let name = &fragment.node.fragment_name.node;
                // A fragment spread twice at one level adds nothing new the second time.
                if !spread.contains(&name)
                    && let Some(definition) = fragments.get(name)
                {
                    spread.push(name);
                    collect(&definition.node.selection_set.node, fragments, keys, spread);
                }
            }
        }
    }
}

fn order(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    match value {
        Value::Object(_) => apply(value, &plan(sets, fragments), fragments),
        Value::List(items) if items.iter().any(|i| matches!(i, Value::Object(_) | Value::List(_))) => {
            let plan = plan(sets, fragments);
            for item in items {
                apply(item, &plan, fragments);
            }
        }
        _ => {}
    }
}

fn apply(value: &mut Value, plan: &[(&Name, Vec<&SelectionSet>)], fragments: &Fragments) {
    match value {
        Value::Object(map) => {
            // Already in order (most objects are: their fields are ready at once): only below.
            if map.len() == plan.len() && map.keys().zip(plan).all(|(key, (wanted, _))| key == *wanted) {
                for (inner, (_, sets)) in map.values_mut().zip(plan) {
                    order(inner, sets, fragments);
                }
                return;
            }
            let mut ordered = async_graphql::indexmap::IndexMap::with_capacity(map.len());
            for (key, sets) in plan {
                if let Some((name, mut inner)) = map.shift_remove_entry(*key) {
                    order(&mut inner, sets, fragments);
                    ordered.insert(name, inner);
                }
            }
            // Anything the plan did not name stays, after.
            ordered.extend(map.drain(..));
            *map = ordered;
        }
        Value::List(items) => {
            for item in items {
                apply(item, plan, fragments);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_their_selection_sets() {
        let doc =
            parse_query("query Q { b: x { ...F c } a: y { z w } } fragment F on X { e ... on X { d } e }").unwrap();
        let mut data = Value::from_json(serde_json::json!({
            "a": [{ "w": 1, "z": 2 }, { "z": 3, "w": 4 }],
            "b": { "c": 1, "d": 2, "e": 3 },
        }))
        .unwrap();
        in_request_order(&doc, Some("Q"), &mut data);
        assert_eq!(keys(&data), ["b", "a"]);
        let Value::Object(map) = &data else { panic!() };
        assert_eq!(keys(&map["b"]), ["e", "d", "c"]);
        let Value::List(items) = &map["a"] else { panic!() };
        assert!(items.iter().all(|i| keys(i) == ["z", "w"]));

        // In order at the top, not below it.
        let mut data = Value::from_json(serde_json::json!({
            "b": { "c": 1, "d": 2, "e": 3 },
            "a": [{ "w": 1, "z": 2 }],
        }))
        .unwrap();
        in_request_order(&doc, Some("Q"), &mut data);
        let Value::Object(map) = &data else { panic!() };
        assert_eq!(keys(&map["b"]), ["e", "d", "c"]);
        let Value::List(items) = &map["a"] else { panic!() };
        assert_eq!(keys(&items[0]), ["z", "w"]);
    }
}
