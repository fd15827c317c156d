//! The watch job, on a shop that does not cap the flash quantity
//! (`Capabilities::caps_quantity` false, e.g. Medusa): a flash sale sells N
//! units of a line at the flash price, and the shop would go on selling at
//! it. Planned for the start of every approved or live session; while the
//! session is live it counts each line's units sold every `watch_every` and
//! takes a line's flash price off once its quantity is sold, the rest of the
//! sale staying up, and tells the team.
//!
//! It writes to the shop, so it runs in the sale's writer section and
//! decides from the session read there: nothing is taken off a sale that is
//! stopping or past its end (the end job takes all of it off). Which lines
//! are still on sale is read from the shop (`ShownLine::sale_applies`), not
//! remembered, so a restarted bot neither repeats nor forgets a sell-out.

use serde_json::json;

use super::{Handled, JobOutcome};
use crate::app::job_notices;
use crate::domain::sale::SalePhase;
use crate::domain::{ActivityKind, Status};
use crate::scheduler::writer::Section;
use crate::scheduler::Scheduler;
use crate::store::jobs::ClaimedJob;

impl Scheduler {
    pub(super) async fn watch(&self, job: &ClaimedJob) -> Handled {
        let mut section = self.enter(job.session_id).await?;
        let outcome = self.watch_in(&mut section, job).await;
        section.leave().await;
        outcome
    }

    async fn watch_in(&self, section: &mut Section, job: &ClaimedJob) -> Handled {
        let again = JobOutcome::Again {
            after: self.config.watch_every,
        };
        let facts = section.facts().await?;
        let over = facts.stopping || facts.now >= facts.window.ends_at();
        match facts.status {
            Status::Live if !over => {}
            // Not live yet (its publish is on its way): look again soon.
            Status::Approved if !over => return Ok(again),
            _ => return Ok(JobOutcome::Done),
        }
        let view = self.app.get(job.session_id).await?;
        let sale = view.sale_request();
        let counted = async {
            let shown = self.storefront.read_back(view.id).await?;
            let sold = self.storefront.units_sold(&sale).await?;
            Ok::<_, crate::storefront::StorefrontError>((shown, sold))
        };
        let (shown, sold) = match counted.await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "could not count the units sold; looking again");
                return Ok(again);
            }
        };
        let Some(shown) = shown.filter(|s| s.phase == SalePhase::Live) else {
            return Ok(again);
        };
        for item in &sale.items {
            let quantity = item.quantity.get();
            let units = sold.get(&item.sku).copied().unwrap_or(0);
            let on_sale = shown
                .lines
                .iter()
                .any(|l| l.sku == item.sku && l.sale_applies);
            if units < quantity || !on_sale {
                continue;
            }
            let Some(write) = self.job_write(job, true).await? else {
                return Ok(JobOutcome::LostLease);
            };
            if let Err(e) = self.storefront.end_line(&sale, &item.sku, &write).await {
                tracing::warn!(error = %e, sku = %item.sku, "could not take a sold-out line off; looking again");
                continue;
            }
            let at = facts.now;
            tracing::info!(sku = %item.sku, units, quantity, "a line sold out at the flash price");
            let details = json!({
                "sku": item.sku.as_str(),
                "sold": units,
                "quantity": quantity,
                "revision": write.revision,
            });
            self.app
                .log_system_event(view.id, ActivityKind::SoldOut, details)
                .await?;
            let notice = job_notices::sold_out(&view, item.sku.as_str(), units, quantity, at);
            self.app.notify(view.id, notice).await?;
        }
        Ok(again)
    }
}
