//! An optimizer rule for the join chains views compile to: each many-to-one step is a LEFT JOIN (a row whose key
//! finds nothing keeps its measures, under a NULL dimension), and a filter on a far dimension (`region = 'EUROPE'`)
//! turns only the last step into an inner join (DataFusion's outer-join elimination looks at filters, not at the
//! keys of the inner join above). Yet an inner equi-join never matches a NULL key, so an outer join below it whose
//! NULL-filled side supplies that key is an inner join too; made one, the hash joins' filters reach the scans below.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

#[derive(Debug, Default)]
pub struct InnerJoinKeysRejectNulls;

impl OptimizerRule for InnerJoinKeysRejectNulls {
    fn name(&self) -> &str {
        "inner_join_keys_reject_nulls"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        // Top down: the join made inner here is visited next and does the same for the one below it.
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Join(join) = plan else {
            return Ok(Transformed::no(plan));
        };
        if join.join_type != JoinType::Inner || join.null_equality != NullEquality::NullEqualsNothing {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        let keys = |side: fn(&(Expr, Expr)) -> &Expr| -> Vec<Column> {
            join.on
                .iter()
                .filter_map(|pair| side(pair).try_as_col().cloned())
                .collect()
        };
        let left = inner_below(&join.left, &keys(|(left, _)| left))?;
        let right = inner_below(&join.right, &keys(|(_, right)| right))?;
        if left.is_none() && right.is_none() {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        Ok(Transformed::yes(LogicalPlan::Join(Join {
            left: left.map_or(join.left, Arc::new),
            right: right.map_or(join.right, Arc::new),
            ..join
        })))
    }
}

/// `plan` with its outer join made inner, when one of `keys` (columns the inner join above matches on) comes from
/// that join's NULL-filled side, reached through projections that pass the key on unchanged; `None` otherwise.
fn inner_below(plan: &LogicalPlan, keys: &[Column]) -> Result<Option<LogicalPlan>> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let passed: Vec<Column> = keys
                .iter()
                .filter(|key| {
                    projection
                        .expr
                        .iter()
                        .any(|e| matches!(e, Expr::Column(c) if c == *key))
                })
                .cloned()
                .collect();
            let Some(input) = inner_below(&projection.input, &passed)? else {
                return Ok(None);
            };
            Ok(Some(LogicalPlan::Projection(Projection::try_new_with_schema(
                projection.expr.clone(),
                Arc::new(input),
                projection.schema.clone(),
            )?)))
        }
        LogicalPlan::Join(join) => {
            let nullable = match join.join_type {
                JoinType::Left => &join.right,
                JoinType::Right => &join.left,
                _ => return Ok(None),
            };
            if !keys.iter().any(|key| nullable.schema().has_column(key)) {
                return Ok(None);
            }
            // The schema stays the outer join's (nullable fields), as DataFusion's own outer-join elimination keeps it.
            Ok(Some(LogicalPlan::Join(Join {
                join_type: JoinType::Inner,
                ..join.clone()
            })))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{LogicalPlanBuilder, col, lit, table_scan};
    use datafusion::optimizer::{Optimizer, OptimizerContext};

    use super::*;

    fn scan(name: &str) -> LogicalPlanBuilder {
        let schema = Schema::new(
            ["k", "v"]
                .map(|c| Field::new(format!("{name}_{c}"), DataType::Int32, true))
                .to_vec(),
        );
        table_scan(Some(name), &schema, None).unwrap()
    }

    fn optimized(plan: LogicalPlan) -> Vec<JoinType> {
        let plan = Optimizer::with_rules(vec![Arc::new(InnerJoinKeysRejectNulls)])
            .optimize(plan, &OptimizerContext::new(), |_, _| {})
            .unwrap();
        let mut joins = Vec::new();
        plan.apply(|node| {
            if let LogicalPlan::Join(join) = node {
                joins.push(join.join_type);
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        joins
    }

    /// `plan` joined to `table`'s scan by `kind` on `key` = `table`_k.
    fn joined(plan: LogicalPlanBuilder, kind: JoinType, key: &str, table: &str) -> LogicalPlanBuilder {
        let right = scan(table).build().unwrap();
        plan.join(right, kind, (vec![key], vec![format!("{table}_k")]), None)
            .unwrap()
    }

    /// `plan` (projected to `columns`) under an inner join on `key`.
    fn under_inner_join(plan: LogicalPlanBuilder, columns: Vec<Expr>, key: &str) -> LogicalPlan {
        let projected = plan.project(columns).unwrap();
        joined(projected, JoinType::Inner, key, "z").build().unwrap()
    }

    /// a LEFT JOIN b ON a_k = b_k.
    fn a_left_b() -> LogicalPlanBuilder {
        joined(scan("a"), JoinType::Left, "a_k", "b")
    }

    #[test]
    fn an_inner_join_on_the_null_filled_side_makes_the_outer_join_inner() {
        let plan = under_inner_join(a_left_b(), vec![col("a_v"), col("b_v")], "b_v");
        assert_eq!(optimized(plan), [JoinType::Inner, JoinType::Inner]);
    }

    #[test]
    fn a_key_from_the_kept_side_leaves_the_outer_join() {
        let plan = under_inner_join(a_left_b(), vec![col("a_v"), col("b_v")], "a_v");
        assert_eq!(optimized(plan), [JoinType::Inner, JoinType::Left]);
    }

    #[test]
    fn a_key_computed_by_a_projection_leaves_the_outer_join() {
        let plan = under_inner_join(a_left_b(), vec![(col("b_v") + lit(1)).alias("x")], "x");
        assert_eq!(optimized(plan), [JoinType::Inner, JoinType::Left]);
    }

    #[test]
    fn a_chain_of_outer_joins_turns_inner_step_by_step() {
        // a LEFT b LEFT c, with c's column under an inner join: c's row must exist, hence b's (c joins on b_v).
        let chain = joined(a_left_b(), JoinType::Left, "b_v", "c");
        let plan = under_inner_join(chain, vec![col("a_v"), col("c_v")], "c_v");
        assert_eq!(optimized(plan), [JoinType::Inner, JoinType::Inner, JoinType::Inner]);
    }
}
