/**
 * A count of the entries the planner's loops visit in a stage's state so far (its args, its
 * config's Env): a test plans n and 2n instructions and compares the counts, so a loop that
 * walks every earlier instruction at each one shows without timing anything.
 */
export const planWork = { visits: 0 };
