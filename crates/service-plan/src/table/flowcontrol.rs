//! The printers of flowcontrol.apiserver.k8s.io/v1 FlowSchemas and PriorityLevelConfigurations,
//! as kube-apiserver v1.32 prints them (pkg/printers/internalversion/printers.go:
//! `flowSchemaColumnDefinitions`, printFlowSchema, `priorityLevelColumnDefinitions`,
//! printPriorityLevelConfiguration).

use serde_json::Value;

use super::{
    TableColumnDefinition, age_cell, age_column, at, column, int_at, list_at, name_cell,
    name_column, str_at,
};

/// `PriorityLevelConfigurationReference{}.SwaggerDoc()["name"]`.
const DESC_PRIORITY_LEVEL: &str =
    "`name` is the name of the priority level configuration being referenced Required.";
/// `FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"]`.
const DESC_MATCHING_PRECEDENCE: &str = "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default.";
/// `FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"]`.
const DESC_DISTINGUISHER: &str = "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string.";
/// printers.go's own description of the MissingPL column.
const DESC_MISSING_PL: &str = "indicates if the referenced priority level exists";
/// `PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]`.
const DESC_TYPE: &str = "`type` indicates whether this priority level is subject to limitation on request execution.  A value of `\"Exempt\"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `\"Limited\"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server's limited capacity is made available exclusively to this priority level. Required.";
/// `LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]`, first
/// paragraph.
const DESC_NCS: &str = "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level. This is the number of execution seats available at this priority level. This is used both for requests dispatched from this priority level as well as requests dispatched from other priority levels borrowing seats from this level. The server's concurrency limit (ServerCL) is divided among the Limited priority levels in proportion to their NCS values:";
/// `QueuingConfiguration{}.SwaggerDoc()["queues"]`.
const DESC_QUEUES: &str = "`queues` is the number of queues for this priority level. The queues exist independently at each apiserver. The value must be positive.  Setting it to 1 effectively precludes shufflesharding and thus makes the distinguisher method of associated flow schemas irrelevant.  This field has a default value of 64.";
/// `QueuingConfiguration{}.SwaggerDoc()["handSize"]`.
const DESC_HAND_SIZE: &str = "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.  When enqueuing a request at this priority level the request's flow identifier (a string pair) is hashed and the hash value is used to shuffle the list of queues and deal a hand of the size specified here.  The request is put into one of the shortest queues in that hand. `handSize` must be no larger than `queues`, and should be significantly smaller (so that a few heavy flows do not saturate most of the queues).  See the user-facing documentation for more extensive guidance on setting this field.  This field has a default value of 8.";
/// `QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"]`.
const DESC_QUEUE_LENGTH_LIMIT: &str = "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.  This value must be positive.  If not specified, it will be defaulted to 50.";

/// What printers.go prints for an absent number.
const NONE: &str = "<none>";

/// Columns of `kubectl get flowschemas`.
pub fn flow_schema_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("PriorityLevel", "string", 0, DESC_PRIORITY_LEVEL),
        column("MatchingPrecedence", "string", 0, DESC_MATCHING_PRECEDENCE),
        column("DistinguisherMethod", "string", 0, DESC_DISTINGUISHER),
        age_column(),
        column("MissingPL", "string", 0, DESC_MISSING_PL),
    ]
}

/// Cells of a FlowSchema row: MissingPL is the status of its `Dangling` condition, `?` when
/// the config consumer has not written one yet.
pub fn flow_schema_cells(fs: &Value, now: i64) -> Vec<Value> {
    let distinguisher = match str_at(fs, &["spec", "distinguisherMethod", "type"]) {
        "" if at(fs, &["spec", "distinguisherMethod"]).is_none_or(Value::is_null) => NONE,
        t => t,
    };
    let missing_pl = list_at(fs, &["status", "conditions"])
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Dangling"))
        .map_or("?", |c| {
            c.get("status").and_then(Value::as_str).unwrap_or("")
        });
    vec![
        name_cell(fs),
        Value::from(str_at(fs, &["spec", "priorityLevelConfiguration", "name"])),
        Value::from(int_at(fs, &["spec", "matchingPrecedence"]).unwrap_or(0)),
        Value::from(distinguisher),
        age_cell(fs, now),
        Value::from(missing_pl),
    ]
}

/// Columns of `kubectl get prioritylevelconfigurations`.
pub fn priority_level_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Type", "string", 0, DESC_TYPE),
        column("NominalConcurrencyShares", "string", 0, DESC_NCS),
        column("Queues", "string", 0, DESC_QUEUES),
        column("HandSize", "string", 0, DESC_HAND_SIZE),
        column("QueueLengthLimit", "string", 0, DESC_QUEUE_LENGTH_LIMIT),
        age_column(),
    ]
}

/// Cells of a PriorityLevelConfiguration row: the numbers of a Limited level, `<none>` where
/// there are none (an Exempt level, or a level that rejects instead of queuing).
pub fn priority_level_cells(pl: &Value, now: i64) -> Vec<Value> {
    let number = |path: &[&str]| int_at(pl, path).map_or(Value::from(NONE), Value::from);
    let limited = at(pl, &["spec", "limited"]).is_some_and(|l| !l.is_null());
    let queuing = ["spec", "limited", "limitResponse", "queuing"];
    let queued = at(pl, &queuing).is_some_and(|q| !q.is_null());
    let queuing_number = |field: &str| {
        if queued {
            let mut path = queuing.to_vec();
            path.push(field);
            number(&path)
        } else {
            Value::from(NONE)
        }
    };
    vec![
        name_cell(pl),
        Value::from(str_at(pl, &["spec", "type"])),
        if limited {
            number(&["spec", "limited", "nominalConcurrencyShares"])
        } else {
            Value::from(NONE)
        },
        queuing_number("queues"),
        queuing_number("handSize"),
        queuing_number("queueLengthLimit"),
        age_cell(pl, now),
    ]
}
