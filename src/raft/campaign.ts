/** Why an election starts: a pre-vote round, a real election, or a leadership transfer (which skips pre-vote and leases). */
export const CampaignKind = { PreElection: 0, Election: 1, Transfer: 2 } as const;
export type CampaignKind = (typeof CampaignKind)[keyof typeof CampaignKind];
