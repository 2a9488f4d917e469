import { describeBudgetLedgerConformance } from './budget-ledger-conformance.ts';
import { InMemoryBudgetLedger } from './in-memory-budget-ledger.ts';

describeBudgetLedgerConformance('in memory', async () => new InMemoryBudgetLedger());
