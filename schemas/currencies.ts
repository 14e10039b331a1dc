/**
 * ISO 4217 currency codes and their minor units (decimal places), for rounding
 * billing lines (docs/rating.md, "Charge models": USD 2, JPY 0).
 *
 * A table, not `Intl.NumberFormat`: Intl accepts any three letters ("ABC" → 2)
 * and reports CLDR *display* digits, which differ from ISO 4217 for real money
 * (CLDR says HUF, IDR, COP, PKR 0 and IQD 0; ISO 4217 says 2, 2, 2, 2 and 3).
 * Invoices follow ISO 4217. Codes without a minor unit (precious metals, SDR,
 * XTS, XXX) are not billing currencies and are absent on purpose.
 */

const ZERO_DECIMALS = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const THREE_DECIMALS = 'BHD IQD JOD KWD LYD OMR TND';
const FOUR_DECIMALS = 'CLF UYW';
const TWO_DECIMALS = [
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD',
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL',
  'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD',
  'LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN',
  'PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL',
  'THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL',
].join(' ');

const MINOR_UNITS: ReadonlyMap<string, number> = new Map(
  (
    [
      [TWO_DECIMALS, 2],
      [ZERO_DECIMALS, 0],
      [THREE_DECIMALS, 3],
      [FOUR_DECIMALS, 4],
    ] as const
  ).flatMap(([codes, digits]) => codes.split(' ').map((code) => [code, digits] as const)),
);

/** Every supported ISO 4217 code, sorted. */
export const currencyCodes: readonly string[] = Object.freeze([...MINOR_UNITS.keys()].sort());

/** Decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3), or undefined for an unknown code. */
export function currencyMinorUnits(code: string): number | undefined {
  return MINOR_UNITS.get(code);
}
